// The ceiling for the ring bench: a raw single-producer single-consumer byte ring in a
// SharedArrayBuffer (platform.md §6b): 4-byte length header, records padded to 8, wrap split into
// two set() calls, indexes published once per batch, notify only when the peer said it sleeps.

const W = 0;
const R = 1;
const CONSUMER_SLEEPING = 2;
const PRODUCER_SLEEPING = 3;
const DATA = 64;
const BATCH = 256;
const SPIN = 5000;
const READ_BATCH = 64;

export interface RawRingData {
  readonly role: 'producer' | 'consumer';
  readonly sab: SharedArrayBuffer;
  readonly total: number;
  readonly payloadLen: number;
  /** Length header bytes: 4 as specified (payload at 4 mod 8), or 8 to keep the payload 8-aligned. */
  readonly headerBytes?: 4 | 8;
}

export function newRawRing(dataBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(DATA + dataBytes);
}

/**
 * The fastest copy for each case, as the VMBus ring uses (platform.md §6a): 4-aligned copies up to
 * 256 bytes as 32-bit words, other small ones by a byte loop, large ones by set().
 */
function copy(src: Uint8Array, src32: Int32Array, srcOff: number, dst: Uint8Array, dst32: Int32Array, dstOff: number, len: number): void {
  if (len <= 256 && ((srcOff | dstOff) & 3) === 0) {
    const words = len >>> 2;
    const s = srcOff >>> 2;
    const d = dstOff >>> 2;
    for (let i = 0; i < words; i++) dst32[d + i] = src32[s + i]!;
    for (let i = words << 2; i < len; i++) dst[dstOff + i] = src[srcOff + i]!;
  } else if (len <= 64) {
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i]!;
  } else {
    dst.set(src.subarray(srcOff, srcOff + len), dstOff);
  }
}

function wait(i32: Int32Array, index: number, sleepingFlag: number, seen: number): void {
  for (let i = 0; i < SPIN; i++) if (Atomics.load(i32, index) !== seen) return;
  Atomics.store(i32, sleepingFlag, 1);
  Atomics.wait(i32, index, seen, 50);
  Atomics.store(i32, sleepingFlag, 0);
}

/** Runs one side to the end; the consumer returns its receive rate (first to last message) and errors. */
export function runRawRing(d: RawRingData): { pps: number; errors: number } {
  const i32 = new Int32Array(d.sab);
  const u8 = new Uint8Array(d.sab);
  const dv = new DataView(d.sab);
  const size = d.sab.byteLength - DATA;
  const hdr = d.headerBytes ?? 4;
  const rec = (hdr + d.payloadLen + 7) & ~7;
  const i32w = i32;
  const buf = new Uint8Array((d.payloadLen + 3) & ~3);
  const buf32 = new Int32Array(buf.buffer);
  const bdv = new DataView(buf.buffer);
  if (d.role === 'producer') {
    let w = 0;
    let r = 0;
    let sent = 0;
    while (sent < d.total) {
      let n = 0;
      while (n < BATCH && sent < d.total) {
        let free = r > w ? r - w : size - w + r;
        if (free <= rec) {
          r = Atomics.load(i32, R);
          free = r > w ? r - w : size - w + r;
          if (free <= rec) break;
        }
        dv.setUint32(DATA + w, d.payloadLen, true);
        bdv.setUint32(0, sent, true);
        const at = w + hdr >= size ? w + hdr - size : w + hdr;
        const first = Math.min(d.payloadLen, size - at);
        copy(buf, buf32, 0, u8, i32w, DATA + at, first);
        if (first < d.payloadLen) copy(buf, buf32, first, u8, i32w, DATA, d.payloadLen - first);
        w = w + rec >= size ? w + rec - size : w + rec;
        sent++;
        n++;
      }
      if (n > 0) {
        Atomics.store(i32, W, w);
        if (Atomics.load(i32, CONSUMER_SLEEPING) !== 0) Atomics.notify(i32, W);
      } else {
        wait(i32, R, PRODUCER_SLEEPING, r);
      }
    }
    return { pps: 0, errors: 0 };
  }
  let rp = 0;
  let got = 0;
  let errors = 0;
  let firstAt = 0;
  while (got < d.total) {
    const w = Atomics.load(i32, W);
    if (w === rp) {
      wait(i32, W, CONSUMER_SLEEPING, w);
      continue;
    }
    // Publish at least every READ_BATCH messages, as a VMBus channel does, so the producer never
    // waits for a whole ring to drain.
    for (let n = 0; rp !== w && n < READ_BATCH; n++) {
      const len = dv.getUint32(DATA + rp, true);
      const at = rp + hdr >= size ? rp + hdr - size : rp + hdr;
      const first = Math.min(len, size - at);
      copy(u8, i32w, DATA + at, buf, buf32, 0, first);
      if (first < len) copy(u8, i32w, DATA, buf, buf32, first, len - first);
      if (bdv.getUint32(0, true) !== got || len !== d.payloadLen) errors++;
      if (got === 0) firstAt = performance.now();
      got++;
      rp = rp + rec >= size ? rp + rec - size : rp + rec;
    }
    Atomics.store(i32, R, rp);
    if (Atomics.load(i32, PRODUCER_SLEEPING) !== 0) Atomics.notify(i32, R);
  }
  const secs = (performance.now() - firstAt) / 1000;
  return { pps: got / secs, errors };
}
