import { ResourceError } from '../core/index.js';

/** `struct hv_ring_buffer` field offsets inside the 4 KiB header page (§2.2). */
export const RING_WRITE_INDEX = 0;
export const RING_READ_INDEX = 4;
export const RING_INTERRUPT_MASK = 8;
export const RING_PENDING_SEND_SZ = 12;
export const RING_FEATURE_BITS = 64;
export const RING_HEADER_SIZE = 4096;
/** feature_bits bit 0: the consumer honours pending_send_sz (§2.2). */
export const FEAT_PENDING_SEND_SZ = 1;
/** The trailing previous-index u64 after each packet (§2.3 step 5). */
export const RING_TRAILER_SIZE = 8;

/**
 * Hot paths store descriptor words through Int32Array, which is host-endian; VMBus is
 * little-endian, as is every platform Node runs on in practice. Checked once here.
 */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Below this many bytes a plain loop beats creating a view for set() and allocates nothing. */
const SMALL_COPY = 64;
/** Up to this many bytes an aligned 32-bit word loop beats set(). */
const WORD_COPY_MAX = 256;
/**
 * Packets read out of the ring up to this size move as words, larger ones by set() with a view:
 * the ring packets of the netvsc data path above 256 bytes (completions, GPA range lists: 384 to
 * 576 bytes in the allocation lab) stay allocation-free; frames of 1500 bytes in the ring itself
 * (ring bench) keep the native copy.
 */
const WORD_OUT_MAX = 1024;

/**
 * Copies n 32-bit words from src[s..] to dst[d..]. Unrolled by four: the small-packet paths of
 * both ring ends are mostly this loop, and the unrolled form measured ~2 ns less per 64-byte packet.
 */
export function copyWords(src: Int32Array, s: number, dst: Int32Array, d: number, n: number): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    dst[d + i] = src[s + i]!;
    dst[d + i + 1] = src[s + i + 1]!;
    dst[d + i + 2] = src[s + i + 2]!;
    dst[d + i + 3] = src[s + i + 3]!;
  }
  for (; i < n; i++) dst[d + i] = src[s + i]!;
}

/**
 * Copies n 64-bit words. Optimised code moves a BigInt64Array element as a raw 64-bit integer
 * (no BigInt is created; checked with --trace-gc), so this moves 8 bytes per load/store pair where
 * copyWords moves 4: the packet copies are half the loop iterations.
 */
export function copyWords64(src: BigInt64Array, s: number, dst: BigInt64Array, d: number, n: number): void {
  for (let i = 0; i < n; i++) dst[d + i] = src[s + i]!;
}

/**
 * One ring (header page + data area) inside a SharedArrayBuffer, with the index words read and
 * written through Atomics and the data copied with set(), split at the wrap (§2.1: we do not map the
 * data area twice as Linux does).
 */
export class RingMemory {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly i32: Int32Array;
  /** The same bytes as 64-bit words (u8 starts 8-aligned; otherwise null and the 32-bit paths are used). */
  readonly b64: BigInt64Array | null;
  /** Int32 index of the header's first word in i32. */
  readonly hdr: number;
  /** Absolute byte offset of the data area in u8. */
  readonly dataOff: number;
  /** ring_datasize: bytes in the data area (§2.1). */
  readonly size: number;
  private lastSrc: Uint8Array | null = null;
  private lastSrc32: Int32Array | null = null;
  /** 64-bit view of the last source buffer (null when it does not start 8-aligned); see wordsOf(). */
  lastSrc64: BigInt64Array | null = null;

  /**
   * @param u8 bytes over a SharedArrayBuffer (guest memory, reached through a GPADL run by the host)
   * @param offset start of the header page, 8-byte aligned
   * @param ringBytes header + data, a multiple of 4096, at least two pages
   */
  constructor(u8: Uint8Array, offset: number, ringBytes: number) {
    if (!LITTLE_ENDIAN) throw new ResourceError('UNSUPPORTED', 'VMBus rings need a little-endian host');
    if (ringBytes % 4096 !== 0 || ringBytes < 2 * 4096 || offset % 8 !== 0 || offset + ringBytes > u8.byteLength) {
      throw new ResourceError('RING_CORRUPT', `ring of ${ringBytes} B at ${offset} does not fit`);
    }
    this.u8 = u8;
    this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.i32 = new Int32Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 2);
    this.b64 = (u8.byteOffset & 7) === 0 ? new BigInt64Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 3) : null;
    this.hdr = offset >>> 2;
    this.dataOff = offset + RING_HEADER_SIZE;
    this.size = ringBytes - RING_HEADER_SIZE;
  }

  /** What the guest does on open (§2.2): zero the header, indexes 0, feature_bits = 1. */
  initialize(): void {
    this.u8.fill(0, this.dataOff - RING_HEADER_SIZE, this.dataOff);
    Atomics.store(this.i32, this.hdr + RING_FEATURE_BITS / 4, FEAT_PENDING_SEND_SZ);
  }

  load(field: number): number {
    return Atomics.load(this.i32, this.hdr + (field >>> 2)) >>> 0;
  }

  store(field: number, value: number): void {
    Atomics.store(this.i32, this.hdr + (field >>> 2), value | 0);
  }

  /** An index published by the peer must lie inside the data area and stay 8-byte aligned (§2.3). */
  validIndex(index: number): boolean {
    return index < this.size && (index & 7) === 0;
  }

  /** bytes_to_read for read index r and write index w (§2.2). */
  bytesToRead(r: number, w: number): number {
    return w >= r ? w - r : this.size - r + w;
  }

  /** bytes_to_write for read index r and write index w (§2.2). */
  bytesToWrite(r: number, w: number): number {
    return w >= r ? this.size - (w - r) : r - w;
  }

  /** Copies len bytes at ring position pos out to dst, split at the wrap. */
  copyOut(pos: number, dst: Uint8Array, dstOff: number, len: number): void {
    const first = Math.min(len, this.size - pos);
    this.copyBytes(this.u8, this.dataOff + pos, dst, dstOff, first);
    if (len > first) this.copyBytes(this.u8, this.dataOff, dst, dstOff + first, len - first);
  }

  /**
   * copyOut for the reader's private copy (dst32/dst64 are views of it from offset 0): ring
   * positions and packet lengths are multiples of 8, so packets up to WORD_OUT_MAX move as 64-bit
   * words (or 32-bit ones where the ring is not 8-aligned or dst64 is null), larger ones by set().
   * set() needs a subarray view of the ring, a heap object per packet; the word loop is slower
   * than set() for a 1500-byte packet (ring bench 1500B: 2.7 against 3.9 M pps).
   */
  copyOutAligned(pos: number, dst: Uint8Array, dst32: Int32Array, dst64: BigInt64Array | null, len: number): void {
    if (len > WORD_OUT_MAX) {
      this.copyOut(pos, dst, 0, len);
      return;
    }
    const first = Math.min(len, this.size - pos);
    const src64 = this.b64;
    if (src64 !== null && dst64 !== null) {
      copyWords64(src64, (this.dataOff + pos) >>> 3, dst64, 0, first >>> 3);
      copyWords64(src64, this.dataOff >>> 3, dst64, first >>> 3, (len - first) >>> 3);
      return;
    }
    const src = this.i32;
    copyWords(src, (this.dataOff + pos) >>> 2, dst32, 0, first >>> 2);
    copyWords(src, this.dataOff >>> 2, dst32, first >>> 2, (len - first) >>> 2);
  }

  /**
   * Copies len bytes from src into the ring at position pos, split at the wrap. Small copies with
   * 4-aligned ends move as 32-bit words through a word view of src that is made once per source
   * buffer (a queue reuses its scratch buffer), so the steady state allocates nothing.
   */
  copyIn(pos: number, src: Uint8Array, srcOff: number, len: number): void {
    const first = Math.min(len, this.size - pos);
    const s32 = len <= WORD_COPY_MAX && ((pos | srcOff) & 3) === 0 ? this.wordsOf(src) : null;
    if (s32 !== null) {
      this.copyInWords(pos, s32, src, srcOff, len, first);
      return;
    }
    this.copyBytes(src, srcOff, this.u8, this.dataOff + pos, first);
    if (len > first) this.copyBytes(src, srcOff + first, this.u8, this.dataOff, len - first);
  }

  private copyInWords(pos: number, s32: Int32Array, src: Uint8Array, srcOff: number, len: number, first: number): void {
    const d32 = this.i32;
    const s = srcOff >>> 2;
    let d = (this.dataOff + pos) >>> 2;
    const w1 = first >>> 2;
    copyWords(s32, s, d32, d, w1);
    // pos and the data size are multiples of 4, so only the last piece can end in a partial word.
    let done = w1 << 2;
    let at = this.dataOff + pos + done;
    if (len > first) {
      d = this.dataOff >>> 2;
      const w2 = (len - first) >>> 2;
      copyWords(s32, s + w1, d32, d, w2);
      done = first + (w2 << 2);
      at = this.dataOff + (w2 << 2);
    }
    for (; done < len; done++) this.u8[at++] = src[srcOff + done]!;
  }

  /**
   * A word view of src, made once per source buffer (a queue reuses its scratch buffer), or null
   * when src does not start on a 4-byte boundary. The alignment is checked only when src changes.
   * Also sets lastSrc64, the 64-bit view of the same buffer when it starts 8-aligned.
   */
  wordsOf(src: Uint8Array): Int32Array | null {
    if (src !== this.lastSrc) {
      this.lastSrc = src;
      this.lastSrc32 = (src.byteOffset & 3) === 0 ? new Int32Array(src.buffer, src.byteOffset, src.byteLength >>> 2) : null;
      this.lastSrc64 = (src.byteOffset & 7) === 0 ? new BigInt64Array(src.buffer, src.byteOffset, src.byteLength >>> 3) : null;
    }
    return this.lastSrc32;
  }

  private copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, len: number): void {
    if (len <= SMALL_COPY) {
      for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i]!;
    } else {
      dst.set(src.subarray(srcOff, srcOff + len), dstOff);
    }
  }
}
