// A VM worker (thin, STYLE §2): builds the VmRuntime from workerData (its memory, its end of the
// VMBus message link, its NICs and app ports), serves the lab's control calls and runs the VM's
// EventLoop; bring-up starts with the lab's bringUp call.
import { parentPort, workerData } from 'node:worker_threads';
import { serveRuntime } from './rpc.js';
import type { VmWorkerData } from './spawn.js';
import { VmRuntime } from './vm-runtime.js';

const d = workerData as VmWorkerData;
const runtime = new VmRuntime(d.setup, d.link);
serveRuntime(parentPort!, runtime);
void runtime.loop.start();
