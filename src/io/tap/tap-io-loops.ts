/**
 * The two loops the TAP worker threads run. Each blocks in the kernel (read) or on its ring
 * (write) so no thread spins while the link is idle; neither allocates per frame.
 */
import { readSync, writeSync } from 'node:fs';
import { FrameRing, RingStat } from './frame-ring.js';

/** Largest read: a 64 KiB GSO super-frame plus Ethernet/VLAN headers and the vnet header. */
export const MAX_TAP_READ_LEN = 65536 + 64;
/** How long a loop sleeps before it rechecks the stop flag by itself (ms). */
const IDLE_RECHECK_MS = 200;
/** TX: records written between two publications of the tail. */
const TX_BATCH = 64;

function errnoCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'EIO';
}

/**
 * Kernel → ring. One blocking read() returns exactly one frame, vnet header first, straight into
 * the ring. Ends when the ring is stopped and the read fails: close() deletes the interface,
 * which wakes the blocked read with an error.
 */
export function runTapReader(fd: number, ring: FrameRing, wake: Int32Array | null = null, wakeAt = 0): string {
  for (;;) {
    const at = ring.reserve(MAX_TAP_READ_LEN);
    if (at < 0) {
      if (ring.stopped) return 'stopped';
      ring.waitSpace(IDLE_RECHECK_MS);
      continue;
    }
    let n: number;
    try {
      n = readSync(fd, ring.bytes, at, MAX_TAP_READ_LEN, null);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EINTR' || code === 'EAGAIN') continue;
      if (ring.stopped) return 'stopped';
      ring.count(RingStat.ProducerErrors);
      return `read failed: ${code}`;
    }
    ring.commit(n);
    if (wake !== null) {
      // The consumer may sleep on its own doorbell, not on this ring: ring it (notify only a sleeper).
      Atomics.add(wake, wakeAt, 1);
      if (Atomics.load(wake, wakeAt + 1) !== 0) Atomics.notify(wake, wakeAt);
    }
  }
}

/** Ring → kernel. One write() per frame; a rejected frame is counted and skipped. */
export function runTapWriter(fd: number, ring: FrameRing): string {
  let batch = 0;
  for (;;) {
    const at = ring.peek();
    if (at < 0) {
      ring.publishTail();
      batch = 0;
      if (ring.stopped) return 'stopped';
      ring.waitData(IDLE_RECHECK_MS);
      continue;
    }
    try {
      writeSync(fd, ring.bytes, at, ring.peekLen);
    } catch {
      // EINVAL (bad vnet header) or EIO (interface down): the kernel drops it, so do we.
      ring.count(RingStat.ConsumerErrors);
    }
    ring.release();
    if (++batch === TX_BATCH) {
      ring.publishTail();
      batch = 0;
    }
  }
}
