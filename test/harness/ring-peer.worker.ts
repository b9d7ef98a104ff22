// Thin worker: one end of the two-worker VMBus stream (see ring-peer.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runRingPeer, type RingPeerData } from './ring-peer.js';

await runRingPeer(workerData as RingPeerData, (r) => parentPort!.postMessage(r));
