/**
 * A single-producer single-consumer ring of variable-length frames in a SharedArrayBuffer, shared
 * between a TAP worker and the thread that owns the NIC. Preallocated; nothing allocates per frame.
 *
 * Layout: a 256-byte header, then `capacity` data bytes (a power of two). Each record is
 * [u32 len][u32 0][len bytes], padded to 8. A record never wraps: when it would not fit before the
 * end, the producer writes WRAP in the len slot and continues at the start. head and tail are
 * free-running int32 byte counters (cap ≤ 2^30, so head - tail is exact in int32 arithmetic).
 *
 * Waking: each side sets its "waiting" word before sleeping and the other side notifies only when
 * that word is set, so a busy ring costs no futex calls (platform.md §6c).
 */
import { ConfigError } from '../../core/index.js';

const HEAD = 0; // int32 index; producer-owned, own cache line
const TAIL = 16; // consumer-owned
const CONSUMER_WAITING = 24; // bytes 96..107: flags, below the counters
const PRODUCER_WAITING = 25;
const STOP = 26;
const STATS_AT = 128; // byte offset of 16 float64 counters (bytes 128..255), each written by one side only
export const RING_HEADER_BYTES = 256;
const REC_HDR = 8;
const WRAP = 0xffffffff;

/** Counter slots in the ring header (one writer each, readable from any thread). */
export const RingStat = {
  Frames: 0,
  Bytes: 1,
  /** Producer waited for space (the consumer fell behind). */
  FullWaits: 2,
  /** Producer-side errors (for the RX worker: failed reads). */
  ProducerErrors: 3,
  /** Consumer-side errors (TX worker: failed writes; port: frames with a bad header). */
  ConsumerErrors: 4,
} as const;
export type RingStat = (typeof RingStat)[keyof typeof RingStat];

export function createFrameRingBuffer(capacityBytes: number): SharedArrayBuffer {
  if (!Number.isInteger(capacityBytes) || capacityBytes < 4096 || capacityBytes > 1 << 30 || (capacityBytes & (capacityBytes - 1)) !== 0) {
    throw new ConfigError('BAD_CONFIG', `ring capacity ${capacityBytes} must be a power of two in [4096, 2^30]`);
  }
  return new SharedArrayBuffer(RING_HEADER_BYTES + capacityBytes);
}

export class FrameRing {
  /** The whole SharedArrayBuffer as bytes; record offsets returned below index into it. */
  readonly bytes: Uint8Array;
  readonly capacity: number;
  private readonly ctl: Int32Array;
  private readonly u32: Uint32Array;
  private readonly stats: Float64Array;
  private readonly mask: number;
  /** Producer: the unpublished head. Consumer: the unpublished tail. */
  private head = 0;
  private tail = 0;
  /** Consumer: byte length of the record returned by the last peek(). */
  peekLen = 0;

  constructor(sab: SharedArrayBuffer) {
    this.capacity = sab.byteLength - RING_HEADER_BYTES;
    this.mask = this.capacity - 1;
    this.bytes = new Uint8Array(sab);
    this.ctl = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
    this.u32 = new Uint32Array(sab);
    this.stats = new Float64Array(sab, STATS_AT, 16);
    this.head = Atomics.load(this.ctl, HEAD);
    this.tail = Atomics.load(this.ctl, TAIL);
  }

  // ---- producer ----

  /**
   * Room for a record of up to maxLen bytes: returns the offset (into `bytes`) to write the data
   * at, or -1 when the ring is too full right now. Follow with commit(len ≤ maxLen).
   */
  reserve(maxLen: number): number {
    const need = (REC_HDR + maxLen + 7) & ~7;
    const free = this.capacity - ((this.head - Atomics.load(this.ctl, TAIL)) | 0);
    const pos = this.head & this.mask;
    const toEnd = this.capacity - pos;
    if (toEnd < need) {
      if (free < toEnd + need) return -1;
      this.u32[(RING_HEADER_BYTES + pos) >>> 2] = WRAP;
      this.head = (this.head + toEnd) | 0; // published together with the record by commit()
      return RING_HEADER_BYTES + REC_HDR;
    }
    if (free < need) return -1;
    return RING_HEADER_BYTES + pos + REC_HDR;
  }

  /** Publishes the record reserved last with its real length, and wakes a sleeping consumer. */
  commit(len: number): void {
    const at = RING_HEADER_BYTES + (this.head & this.mask);
    this.u32[at >>> 2] = len;
    this.u32[(at >>> 2) + 1] = 0;
    this.head = (this.head + ((REC_HDR + len + 7) & ~7)) | 0;
    this.stats[RingStat.Frames]! += 1;
    this.stats[RingStat.Bytes]! += len;
    Atomics.store(this.ctl, HEAD, this.head);
    if (Atomics.load(this.ctl, CONSUMER_WAITING) !== 0) Atomics.notify(this.ctl, HEAD);
  }

  /** Sleeps until the consumer frees space, stop() or timeoutMs. */
  waitSpace(timeoutMs: number): void {
    this.stats[RingStat.FullWaits]! += 1;
    const seen = Atomics.load(this.ctl, TAIL);
    Atomics.store(this.ctl, PRODUCER_WAITING, 1);
    if (!this.stopped) Atomics.wait(this.ctl, TAIL, seen, timeoutMs);
    Atomics.store(this.ctl, PRODUCER_WAITING, 0);
  }

  // ---- consumer ----

  /** Offset (into `bytes`) of the next record's data, with its length in peekLen; -1 when empty. */
  peek(): number {
    const head = Atomics.load(this.ctl, HEAD);
    for (;;) {
      if (this.tail === head) return -1;
      const pos = this.tail & this.mask;
      const len = this.u32[(RING_HEADER_BYTES + pos) >>> 2]!;
      if (len !== WRAP) {
        this.peekLen = len;
        return RING_HEADER_BYTES + pos + REC_HDR;
      }
      this.tail = (this.tail + this.capacity - pos) | 0;
    }
  }

  /** Drops the record returned by peek(); the space is given back at the next publishTail(). */
  release(): void {
    this.tail = (this.tail + ((REC_HDR + this.peekLen + 7) & ~7)) | 0;
  }

  /** Gives released space back to the producer (once per batch) and wakes it if it sleeps. */
  publishTail(): void {
    if (Atomics.load(this.ctl, TAIL) === this.tail) return;
    Atomics.store(this.ctl, TAIL, this.tail);
    if (Atomics.load(this.ctl, PRODUCER_WAITING) !== 0) Atomics.notify(this.ctl, TAIL);
  }

  /** Spins up to spinCount polls, then sleeps until a record arrives, stop() or timeoutMs; true if readable. */
  waitData(timeoutMs: number, spinCount = 2000): boolean {
    for (let i = 0; i < spinCount; i++) if (Atomics.load(this.ctl, HEAD) !== this.tail) return true;
    Atomics.store(this.ctl, CONSUMER_WAITING, 1);
    if (Atomics.load(this.ctl, HEAD) === this.tail && !this.stopped) Atomics.wait(this.ctl, HEAD, this.tail, timeoutMs);
    Atomics.store(this.ctl, CONSUMER_WAITING, 0);
    return Atomics.load(this.ctl, HEAD) !== this.tail;
  }

  /** waitData() without blocking the event loop (Atomics.waitAsync). */
  async waitDataAsync(timeoutMs: number): Promise<boolean> {
    Atomics.store(this.ctl, CONSUMER_WAITING, 1);
    try {
      if (Atomics.load(this.ctl, HEAD) === this.tail && !this.stopped) {
        const r = waitAsync(this.ctl, HEAD, this.tail, timeoutMs);
        if (r.async) await r.value;
      }
      return Atomics.load(this.ctl, HEAD) !== this.tail;
    } finally {
      Atomics.store(this.ctl, CONSUMER_WAITING, 0);
    }
  }

  // ---- both ----

  get stopped(): boolean {
    return Atomics.load(this.ctl, STOP) !== 0;
  }

  /** Tells both sides to finish: wakes every sleeper. */
  stop(): void {
    Atomics.store(this.ctl, STOP, 1);
    Atomics.notify(this.ctl, HEAD);
    Atomics.notify(this.ctl, TAIL);
  }

  /** Adds to a counter slot; call only from the side that owns the slot. */
  count(slot: RingStat, by = 1): void {
    this.stats[slot]! += by;
  }

  stat(slot: RingStat): number {
    return this.stats[slot]!;
  }
}

/** Atomics.waitAsync (ES2024; present in Node 20) typed here because the project targets ES2023 libs. */
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): WaitAsyncResult }).waitAsync;
