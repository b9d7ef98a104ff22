import { ResourceError, type ErrorCode } from '../core/index.js';
import { VMPACKET_DESCRIPTOR_SIZE } from '../wire/index.js';
import type { VmbusCounters } from './counters.js';
import {
  copyWords,
  copyWords64,
  RING_INTERRUPT_MASK,
  RING_PENDING_SEND_SZ,
  RING_READ_INDEX,
  RING_TRAILER_SIZE,
  RING_WRITE_INDEX,
  type RingMemory,
} from './ring-memory.js';

const MAX_LEN8 = 0xffff;
/** Single-part packets up to this payload take the word-store fast path. */
const SMALL_PACKET = 256;

/**
 * The producer of one ring (§2.3). Packets are written at a private write index and published
 * together by flush(), so a batch costs one release store and one signal decision.
 *
 * Two ways to write: tryWritePacket() for a descriptor + up to two byte parts (in-band packets and
 * completions), or beginWrite() / set*() / commitWrite() to build a packet in place in the ring
 * (transfer-page and GPA-direct headers, zero copy). Neither allocates.
 */
export class RingWriter {
  private priv: number;
  private pub: number;
  /** Bytes known to be free ahead of priv, from the last read_index load; reloaded only when short. */
  private room: number;
  private pktStart = -1;
  private pktLen = 0;
  private lastFull = false;
  private batchPkts = 0;
  private closedCode: ErrorCode | null = null;
  private readonly sOutFull: number;
  private readonly sOutFirst: number;
  private readonly sWritten: number;

  constructor(
    readonly ring: RingMemory,
    private readonly counters: VmbusCounters,
  ) {
    const w = ring.load(RING_WRITE_INDEX);
    const r = ring.load(RING_READ_INDEX);
    if (!ring.validIndex(w) || !ring.validIndex(r)) this.corrupt(`indexes w=${w} r=${r} outside a ${ring.size} B data area`);
    this.priv = this.pub = w;
    this.room = ring.bytesToWrite(r, w);
    this.sOutFull = counters.slot('out_full_total');
    this.sOutFirst = counters.slot('out_full_first');
    this.sWritten = counters.slot('pkts_written');
  }

  /** From now on every write throws ResourceError with this code (CHANNEL_CLOSED on rescind/close). */
  close(code: ErrorCode): void {
    this.closedCode ??= code;
    this.pktStart = -1;
  }

  /**
   * Writes one packet: descriptor with offset8 = 2, then part 1 and part 2 back to back, zero padded
   * to 8 bytes (§2.8). Returns false, changing nothing, when the ring has no room.
   */
  tryWritePacket(
    type: number,
    flags: number,
    transIdLo: number,
    transIdHi: number,
    p1: Uint8Array,
    p1Off: number,
    p1Len: number,
    p2: Uint8Array | null = null,
    p2Off = 0,
    p2Len = 0,
  ): boolean {
    // The range must lie inside p1: the 64-bit copy cannot store the undefined an out-of-range load gives.
    if (p2Len === 0 && p1Len <= SMALL_PACKET && (p1Off & 3) === 0 && p1Off + p1Len <= p1.length && this.closedCode === null && this.pktStart < 0) {
      const s32 = this.ring.wordsOf(p1);
      if (s32 !== null) return this.writeSmall(type, flags, transIdLo, transIdHi, p1, s32, p1Off, p1Len);
    }
    if (!this.beginWrite(type, flags, transIdLo, transIdHi, VMPACKET_DESCRIPTOR_SIZE, p1Len + p2Len)) return false;
    if (p1Len > 0) this.setBytes(VMPACKET_DESCRIPTOR_SIZE, p1, p1Off, p1Len);
    if (p2 !== null && p2Len > 0) this.setBytes(VMPACKET_DESCRIPTOR_SIZE + p1Len, p2, p2Off, p2Len);
    this.commitWrite();
    return true;
  }

  /**
   * The common case of tryWritePacket (NVSP messages, completions, small frames): one word-aligned
   * part. Same bytes as beginWrite()/setBytes()/commitWrite(), with word stores straight into the
   * ring and one wrap check per packet instead of one per field.
   */
  private writeSmall(type: number, flags: number, transIdLo: number, transIdHi: number, src: Uint8Array, s32: Int32Array, srcOff: number, len: number): boolean {
    const pktLen = (VMPACKET_DESCRIPTOR_SIZE + len + 7) & ~7;
    const total = pktLen + RING_TRAILER_SIZE;
    if (this.room <= total && !this.hasRoom(total)) return this.full();
    if (this.lastFull) this.lastFull = false;
    const ring = this.ring;
    const start = this.priv;
    if (start + total > ring.size) {
      // Wraps: take the general path, which splits every store at the wrap.
      this.pktStart = -1;
      this.beginWrite(type, flags, transIdLo, transIdHi, VMPACKET_DESCRIPTOR_SIZE, len);
      this.setBytes(VMPACKET_DESCRIPTOR_SIZE, src, srcOff, len);
      this.commitWrite();
      return true;
    }
    const i32 = ring.i32;
    const b = (ring.dataOff + start) >>> 2;
    const last = b + (pktLen >>> 2);
    i32[b] = (2 << 16) | (type & 0xffff); // offset8 = 2: payload right after the descriptor (§2.8)
    i32[b + 1] = ((flags & 0xffff) << 16) | (pktLen >>> 3);
    i32[b + 2] = transIdLo;
    i32[b + 3] = transIdHi;
    if ((len & 7) !== 0) {
      i32[last - 2] = 0; // zero the last word pair first: tail padding is zero (§2.8)
      i32[last - 1] = 0;
    }
    const s = srcOff >>> 2;
    const words = len >>> 2;
    const s64 = ring.lastSrc64; // set by the wordsOf(src) that chose this path
    const d64 = ring.b64;
    if (s64 !== null && d64 !== null && (srcOff & 7) === 0) {
      // The payload starts 8-aligned in the ring (packet start and descriptor are multiples of 8):
      // 8 bytes per load/store pair, then the odd 32-bit word if len is 4 mod 8.
      const dw = len >>> 3;
      copyWords64(s64, srcOff >>> 3, d64, (b >>> 1) + 2, dw);
      if ((len & 4) !== 0) i32[b + 4 + (dw << 1)] = s32[s + (dw << 1)]!;
    } else {
      copyWords(s32, s, i32, b + 4, words);
    }
    const u8 = ring.u8;
    const at = ring.dataOff + start + VMPACKET_DESCRIPTOR_SIZE;
    for (let i = words << 2; i < len; i++) u8[at + i] = src[srcOff + i]!;
    i32[last] = 0; // trailer: the packet's start offset in the upper half (§2.3 step 5)
    i32[last + 1] = start;
    this.priv = start + total === ring.size ? 0 : start + total;
    this.room -= total;
    this.batchPkts++;
    return true;
  }

  /** Counts a write that found no room (§2.3 step 2). */
  private full(): false {
    this.counters.add(this.sOutFull);
    if (!this.lastFull) this.counters.add(this.sOutFirst);
    this.lastFull = true;
    return false;
  }

  /**
   * Reserves a packet of `headerLen` bytes (descriptor + type-specific header, a multiple of 8:
   * this becomes offset8) plus `payloadLen` bytes, and writes the descriptor. Positions passed to
   * set*() count from the descriptor. Returns false when the ring has no room.
   */
  beginWrite(type: number, flags: number, transIdLo: number, transIdHi: number, headerLen: number, payloadLen: number): boolean {
    if (this.closedCode !== null) this.refuse();
    if (this.pktStart >= 0) throw new ResourceError('RING_CORRUPT', 'beginWrite() inside an unfinished packet');
    if ((headerLen & 7) !== 0 || headerLen < VMPACKET_DESCRIPTOR_SIZE) {
      throw new ResourceError('LIMIT', `packet header of ${headerLen} B is not a multiple of 8 of at least 16`);
    }
    const pktLen = (headerLen + payloadLen + 7) & ~7;
    if (pktLen >>> 3 > MAX_LEN8 || pktLen + RING_TRAILER_SIZE >= this.ring.size) throw new ResourceError('LIMIT', `packet of ${pktLen} B does not fit len8 or the ring`);
    if (!this.hasRoom(pktLen + RING_TRAILER_SIZE)) return this.full();
    this.lastFull = false;
    this.pktStart = this.priv;
    this.pktLen = pktLen;
    // Zero the last 8-byte word first so the tail padding is zero whatever the payload leaves.
    if (((headerLen + payloadLen) & 7) !== 0) {
      this.word(pktLen - 8, 0);
      this.word(pktLen - 4, 0);
    }
    // {type, offset8} and {len8, flags} as two little-endian u32 stores (§2.6).
    this.word(0, ((headerLen >>> 3) << 16) | (type & 0xffff));
    this.word(4, ((flags & 0xffff) << 16) | (pktLen >>> 3));
    this.word(8, transIdLo);
    this.word(12, transIdHi);
    return true;
  }

  /** Writes a u32 at `pos` from the packet start; pos is 4-aligned so it never straddles the wrap. */
  setU32(pos: number, v: number): void {
    if ((pos & 3) !== 0) throw new ResourceError('LIMIT', `setU32 at unaligned ${pos}`);
    this.word(pos, v);
  }

  /** A 4-aligned word store (little-endian host, checked by RingMemory). */
  private word(pos: number, v: number): void {
    this.ring.i32[(this.ring.dataOff + this.wrap(this.pktStart + pos)) >>> 2] = v;
  }

  setU16(pos: number, v: number): void {
    this.ring.dv.setUint16(this.ring.dataOff + this.wrap(this.pktStart + pos), v, true);
  }

  setU8(pos: number, v: number): void {
    this.ring.u8[this.ring.dataOff + this.wrap(this.pktStart + pos)] = v;
  }

  setBytes(pos: number, src: Uint8Array, srcOff: number, len: number): void {
    if (pos + len > this.pktLen) throw new ResourceError('LIMIT', `write of ${len} B at ${pos} past a ${this.pktLen} B packet`);
    this.ring.copyIn(this.wrap(this.pktStart + pos), src, srcOff, len);
  }

  /** Ends the packet: writes the trailer (old write index in the upper half, §2.3 step 5). Not yet visible: flush(). */
  commitWrite(): void {
    if (this.pktStart < 0) throw new ResourceError('RING_CORRUPT', 'commitWrite() without beginWrite()');
    this.word(this.pktLen, 0);
    this.word(this.pktLen + 4, this.pktStart);
    this.priv = this.wrap(this.pktStart + this.pktLen + RING_TRAILER_SIZE);
    this.room -= this.pktLen + RING_TRAILER_SIZE;
    this.pktStart = -1;
    this.batchPkts++;
  }

  /**
   * Publishes everything written since the last flush (one store for the batch) and applies
   * §2.3 step 7: true when the reader must be signalled, i.e. its interrupt_mask is clear and the
   * ring was empty before this batch.
   */
  flush(): boolean {
    if (this.priv === this.pub) return false;
    this.counters.add(this.sWritten, this.batchPkts);
    this.batchPkts = 0;
    const old = this.pub;
    this.ring.store(RING_WRITE_INDEX, this.priv);
    this.pub = this.priv;
    if (this.ring.load(RING_INTERRUPT_MASK) !== 0) return false;
    return this.ring.load(RING_READ_INDEX) === old;
  }

  /**
   * A writer that found no room asks the reader to signal when `bytes` are free (§2.2 pending_send_sz).
   * Returns true if the room appeared meanwhile (then the caller retries at once and need not wait).
   */
  requestSpace(bytes: number): boolean {
    this.ring.store(RING_PENDING_SEND_SZ, bytes);
    this.counters.inc('pending_send_set');
    if (this.hasRoom(bytes)) {
      this.ring.store(RING_PENDING_SEND_SZ, 0);
      return true;
    }
    return false;
  }

  clearPendingSend(): void {
    this.ring.store(RING_PENDING_SEND_SZ, 0);
  }

  /** Ring bytes a packet with this header and payload occupies, trailer included. */
  static packetBytes(headerLen: number, payloadLen: number): number {
    return ((headerLen + payloadLen + 7) & ~7) + RING_TRAILER_SIZE;
  }

  /** Bytes written but not yet flushed. */
  get unflushed(): number {
    return this.ring.bytesToRead(this.pub, this.priv);
  }

  private hasRoom(total: number): boolean {
    // The ring is never filled completely, so read == write always means empty (§2.3 step 2).
    if (this.room > total) return true;
    const r = this.ring.load(RING_READ_INDEX);
    if (!this.ring.validIndex(r)) this.corrupt(`read_index ${r} outside a ${this.ring.size} B data area`);
    this.room = this.ring.bytesToWrite(r, this.priv);
    return this.room > total;
  }

  private wrap(pos: number): number {
    return pos >= this.ring.size ? pos - this.ring.size : pos;
  }

  private refuse(): never {
    this.counters.inc('closed_writes');
    throw new ResourceError(this.closedCode ?? 'CHANNEL_CLOSED', 'write on a closed or failed ring');
  }

  private corrupt(why: string): never {
    this.counters.inc('ring_corrupt');
    this.close('RING_CORRUPT');
    throw new ResourceError('RING_CORRUPT', why);
  }
}
