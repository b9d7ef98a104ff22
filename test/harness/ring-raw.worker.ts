// Thin worker: one side of the raw SharedArrayBuffer ring (the ring bench's ceiling).
import { parentPort, workerData } from 'node:worker_threads';
import { runRawRing, type RawRingData } from './ring-raw.js';

parentPort!.postMessage(runRawRing(workerData as RawRingData));
