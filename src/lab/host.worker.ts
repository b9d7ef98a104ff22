// The host worker (thin, STYLE §2): builds the HostRuntime from workerData, serves the lab's
// control calls and runs the host EventLoop until close().
import { parentPort, workerData } from 'node:worker_threads';
import { HostRuntime } from './host-runtime.js';
import { serveRuntime } from './rpc.js';
import type { HostWorkerData } from './spawn.js';

const d = workerData as HostWorkerData;
const runtime = new HostRuntime(d.hostDoorbell, d.profile);
serveRuntime(parentPort!, runtime);
void runtime.loop.start();
