import { ResourceError, type ErrorCode } from '../core/index.js';
import { VMPACKET_DESCRIPTOR_SIZE } from '../wire/index.js';
import type { VmbusCounters } from './counters.js';
import {
  copyWords,
  copyWords64,
  FEAT_PENDING_SEND_SZ,
  RING_FEATURE_BITS,
  RING_INTERRUPT_MASK,
  RING_PENDING_SEND_SZ,
  RING_READ_INDEX,
  RING_TRAILER_SIZE,
  RING_WRITE_INDEX,
  type RingMemory,
} from './ring-memory.js';
import { VmbusPacket } from './vmbus-packet.js';

/** Packets up to this size (and max_pkt_size) that do not wrap are copied by one inline word loop. */
const SMALL_READ = 256;

/**
 * The consumer of one ring (§2.4). next() copies each packet into a private buffer and advances a
 * private read index; commitRead() publishes it once per batch and decides whether a blocked
 * writer must be woken. Where Linux only clamps, corrupt descriptors and indexes are errors here:
 * ResourceError RING_CORRUPT, the ring_corrupt counter, and the reader refuses further reads.
 */
export class RingReader {
  readonly packet: VmbusPacket;
  private priv: number;
  private pub: number;
  private cachedWrite: number;
  private failed: ErrorCode | null = null;
  private readonly sRead: number;
  private batchPkts = 0;
  private readonly sBatches: number;
  /** min(SMALL_READ, max_pkt_size): packets up to this size need no clamping and take the word loop. */
  private readonly smallMax: number;

  constructor(
    readonly ring: RingMemory,
    readonly maxPktSize: number,
    private readonly counters: VmbusCounters,
  ) {
    if (maxPktSize < VMPACKET_DESCRIPTOR_SIZE || (maxPktSize & 7) !== 0) {
      throw new ResourceError('LIMIT', `max_pkt_size ${maxPktSize} must be a multiple of 8 of at least 16`);
    }
    this.packet = new VmbusPacket(maxPktSize);
    this.smallMax = Math.min(SMALL_READ, maxPktSize);
    const r = ring.load(RING_READ_INDEX);
    const w = ring.load(RING_WRITE_INDEX);
    if (!ring.validIndex(r) || !ring.validIndex(w)) this.corrupt(`indexes r=${r} w=${w} outside a ${ring.size} B data area`);
    this.priv = this.pub = r;
    this.cachedWrite = w;
    this.sRead = counters.slot('pkts_read');
    this.sBatches = counters.slot('batches_read');
  }

  /**
   * Copies the next packet into `packet` and steps past it (descriptor + len8×8 + trailer).
   * Returns false when the ring is empty. Throws RING_CORRUPT on an index outside the data area,
   * a descriptor shorter than 16 bytes, offset8 outside [2, len8], or a packet running past the
   * bytes the writer published.
   */
  next(): boolean {
    if (this.failed !== null) throw new ResourceError(this.failed, 'read from a closed or failed ring');
    const ring = this.ring;
    const size = ring.size;
    const priv = this.priv;
    let avail = this.cachedWrite - priv; // bytes_to_read (§2.2), inlined: this runs per packet
    if (avail < 0) avail += size;
    if (avail === 0) {
      // One Atomics.load per batch: only when the bytes known from the last load are used up.
      const w = ring.load(RING_WRITE_INDEX);
      if (!ring.validIndex(w)) this.corrupt(`write_index ${w} outside a ${size} B data area`);
      this.cachedWrite = w;
      avail = ring.bytesToRead(priv, w);
      if (avail === 0) return false;
    }
    // {type, offset8} and {len8, flags} are the descriptor's first two words (§2.6); the first
    // 8 bytes of a packet never straddle the wrap. Each word is loaded once and checked with
    // integer ops.
    const src = ring.i32;
    const at = (ring.dataOff + priv) >>> 2;
    const w0 = src[at]!;
    const w1 = src[at + 1]!;
    const offset8 = w0 >>> 16;
    const len8 = w1 & 0xffff;
    const pktLen = len8 << 3;
    if (pktLen < VMPACKET_DESCRIPTOR_SIZE || pktLen + RING_TRAILER_SIZE > avail) {
      this.corrupt(`descriptor len8=${len8} at ${priv} runs outside the ${avail} readable bytes`);
    }
    if (offset8 < 2 || offset8 > len8) this.corrupt(`descriptor offset8=${offset8} outside [2, len8=${len8}]`);
    const pkt = this.packet;
    if (pktLen <= this.smallMax && priv + pktLen <= size) {
      // The common case (NVSP messages, completions, small frames): one word loop, no wrap, no clamp.
      const dst = pkt.i32;
      dst[0] = w0;
      dst[1] = w1;
      // Ring positions, the data area and packet lengths are multiples of 8 (§2.3), so the rest
      // of the packet moves as 64-bit words from the descriptor's second half on.
      const src64 = ring.b64;
      if (src64 !== null) copyWords64(src64, (at >>> 1) + 1, pkt.b64, 1, (pktLen >>> 3) - 1);
      else copyWords(src, at + 2, dst, 2, (pktLen >>> 2) - 2);
      pkt.decodeWords(w0, w1);
    } else {
      this.copySlow(priv, pktLen, offset8);
      pkt.decode();
    }
    const next = priv + pktLen + RING_TRAILER_SIZE;
    this.priv = next >= size ? next - size : next;
    this.batchPkts++;
    return true;
  }

  /** A packet that wraps or is larger than SMALL_READ, clamped to max_pkt_size (§2.4 step 3). */
  private copySlow(priv: number, pktLen: number, offset8: number): void {
    let copyLen = pktLen;
    if (copyLen > this.maxPktSize) {
      // §2.4 step 3: copy at most max_pkt_size and write the clamped len8 into the private copy.
      copyLen = this.maxPktSize;
      this.counters.inc('pkt_truncated');
    }
    this.ring.copyOutAligned(priv, this.packet.buf, this.packet.i32, this.packet.b64, copyLen);
    if (copyLen !== pktLen) {
      this.packet.dv.setUint16(4, copyLen >>> 3, true);
      if (offset8 * 8 > copyLen) this.packet.dv.setUint16(2, copyLen >>> 3, true);
    }
  }

  /**
   * Ends a batch (§2.4 hv_pkt_iter_close): publishes read_index once, then returns true only when
   * a writer waiting on pending_send_sz now has the room it asked for and did not have before.
   */
  commitRead(): boolean {
    if (this.priv === this.pub) return false;
    const ring = this.ring;
    const old = this.pub;
    ring.store(RING_READ_INDEX, this.priv);
    this.pub = this.priv;
    this.counters.add(this.sBatches);
    this.counters.add(this.sRead, this.batchPkts);
    this.batchPkts = 0;
    if ((ring.load(RING_FEATURE_BITS) & FEAT_PENDING_SEND_SZ) === 0) return false;
    const pending = ring.load(RING_PENDING_SEND_SZ);
    if (pending === 0) return false;
    const w = ring.load(RING_WRITE_INDEX);
    if (!ring.validIndex(w)) this.corrupt(`write_index ${w} outside a ${ring.size} B data area`);
    const curr = ring.bytesToWrite(this.priv, w);
    const read = ring.bytesToRead(old, this.priv);
    if (curr - read > pending) return false; // there was room already: the writer was told before
    return curr > pending; // filling exactly counts as not enough (§2.4 step 7)
  }

  /** hv_begin_read: "don't interrupt me", set while the consumer is actively draining. */
  beginRead(): void {
    this.ring.store(RING_INTERRUPT_MASK, 1);
  }

  /** hv_end_read: clears the mask and returns bytes_to_read; non-zero means data raced in, keep polling. */
  endRead(): number {
    this.ring.store(RING_INTERRUPT_MASK, 0);
    return this.pending();
  }

  /** Bytes published by the writer and not yet consumed by next(). */
  pending(): number {
    if (this.failed !== null) return 0;
    const w = this.ring.load(RING_WRITE_INDEX);
    if (!this.ring.validIndex(w)) this.corrupt(`write_index ${w} outside a ${this.ring.size} B data area`);
    this.cachedWrite = w;
    return this.ring.bytesToRead(this.priv, w);
  }

  /** Stops all further reads (rescind, close or a failure elsewhere on the channel). */
  close(code: ErrorCode = 'CHANNEL_CLOSED'): void {
    this.failed ??= code;
  }

  private corrupt(why: string): never {
    this.failed = 'RING_CORRUPT';
    this.counters.inc('ring_corrupt');
    throw new ResourceError('RING_CORRUPT', why);
  }
}
