// One TAP direction in its own thread (platform.md §4): role 'rx' reads the fd into the ring,
// role 'tx' drains the ring into the fd. Started from dist/ by TapDevice.
import { parentPort, workerData } from 'node:worker_threads';
import { FrameRing } from './frame-ring.js';
import { runTapReader, runTapWriter } from './tap-io-loops.js';
import type { TapWake } from './tap-device.js';

export interface TapWorkerData {
  readonly role: 'rx' | 'tx';
  readonly fd: number;
  readonly ring: SharedArrayBuffer;
  /** RX only: a doorbell to ring after each committed frame (TapOptions.wake). */
  readonly wake?: TapWake;
}

const d = workerData as TapWorkerData;
const ring = new FrameRing(d.ring);
const why = d.role === 'rx' ? runTapReader(d.fd, ring, d.wake ? new Int32Array(d.wake.sab) : null, d.wake?.index ?? 0) : runTapWriter(d.fd, ring);
parentPort?.postMessage(why);
