// Starts a host worker and a guest worker (compiled JS, platform.md §3) sharing one VM's memory.
import { MessageChannel, Worker } from 'node:worker_threads';
import { compiledWorkerUrl } from '../../src/core/index.js';
import { newVmShared } from '../../src/vmbus/index.js';
import type { RingPeerData, RingPeerReport } from './ring-peer.js';

export interface RingWorkersOptions {
  readonly toHost: number;
  readonly toGuest: number;
  readonly payloadLen: number;
  /** Pages per ring, header included. */
  readonly ringPages?: number;
  readonly timeoutMs?: number;
}

/** Runs the stream to the end in two real workers and returns both reports. */
export async function runRingWorkers(o: RingWorkersOptions): Promise<{ host: RingPeerReport; guest: RingPeerReport }> {
  const ringPages = o.ringPages ?? 128;
  const shared = newVmShared(2 * ringPages + 16);
  const url = compiledWorkerUrl(new URL('./ring-peer.worker.js', import.meta.url));
  const { port1, port2 } = new MessageChannel();
  const base = { shared, toHost: o.toHost, toGuest: o.toGuest, payloadLen: o.payloadLen, ringPages };
  const start = (role: 'host' | 'guest', port: typeof port1): { w: Worker; done: Promise<RingPeerReport> } => {
    const data: RingPeerData = { ...base, role, port };
    const w = new Worker(url, { workerData: data, transferList: [port] });
    const done = new Promise<RingPeerReport>((resolve, reject) => {
      w.once('message', (r: RingPeerReport) => resolve(r));
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`${role} worker exited with ${code} before reporting`)));
    });
    return { w, done };
  };
  const host = start('host', port1);
  const guest = start('guest', port2);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('ring workers timed out')), o.timeoutMs ?? 60_000);
  });
  try {
    const [h, g] = await Promise.race([Promise.all([host.done, guest.done]), timeout]);
    return { host: h, guest: g };
  } finally {
    clearTimeout(timer);
    await Promise.all([host.w.terminate(), guest.w.terminate()]);
  }
}
