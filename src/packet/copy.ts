/**
 * Copies bytes between two Uint8Arrays (either may be over a SharedArrayBuffer) without allocating.
 * Node 20's Buffer.prototype.copy makes a Uint8Array view of the source for every partial copy
 * (lib/buffer.js _copyActual), ~96 B of garbage per packet. Instead, when source and destination
 * sit at the same address modulo 8 (what alignGap arranges on the data path) the bytes move as
 * 8-byte words through one Float64Array per underlying buffer, kept on the buffer, and copies
 * within one buffer use its copyWithin; bench/packet's "copy" rows print both next to
 * Buffer.prototype.copy in the same run. A Float64Array load/store keeps every bit pattern, NaNs
 * included (copy.test.ts checks signalling and quiet NaNs in every tier). Copies of 16 KiB and
 * more, where one view is nothing per byte, and copies whose ends are not equally aligned still
 * go through Buffer.prototype.copy; short runs are a plain byte loop.
 */
import { Buffer } from 'node:buffer';

const nativeCopy = Buffer.prototype.copy;
const LOOP_MAX = 64;
/** From this length on the native copy wins and its one view per copy is negligible per byte. */
const NATIVE_MIN = 16384;

/** Whole-buffer views of one ArrayBuffer, made the first time a copy touches it. */
interface BufferViews {
  /** Its whole 8-byte words, for copies between two buffers. */
  readonly words: Float64Array;
  /** Its bytes, for copies within it (copyWithin). */
  readonly bytes: Uint8Array;
}
/** Where a buffer keeps its views: one expando per ArrayBuffer. */
const VIEWS = Symbol('netvsc.copyViews');
type WithViews = ArrayBufferLike & { [VIEWS]?: BufferViews };

function views(buf: ArrayBufferLike): BufferViews {
  const b = buf as WithViews;
  let v = b[VIEWS];
  if (v === undefined) {
    v = { words: new Float64Array(buf, 0, buf.byteLength >>> 3), bytes: new Uint8Array(buf) };
    b[VIEWS] = v;
  }
  return v;
}

/** Copies src[srcOff, srcOff+len) to dst[dstOff, ...). The ranges must not overlap. */
export function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, len: number): void {
  if (len <= LOOP_MAX) {
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i]!;
    return;
  }
  const s = src.byteOffset + srcOff;
  const d = dst.byteOffset + dstOff;
  // Written so that a NaN offset fails it too: the paths below index whole buffers, where a NaN
  // start becomes 0 (outside the views); Buffer.prototype.copy takes it as 0 inside them.
  if (!(srcOff >= 0 && dstOff >= 0 && srcOff + len <= src.length && dstOff + len <= dst.length)) {
    nativeCopy.call(src, dst, dstOff, srcOff, srcOff + len);
    return;
  }
  const sb = src.buffer;
  if (sb === dst.buffer) {
    // Within one buffer: the native copyWithin, which makes no view (bench/packet "copy … within
    // one buffer"). A view made before a resizable buffer grew would clamp: the native copy then.
    const u = views(sb).bytes;
    if (s + len <= u.length && d + len <= u.length) {
      u.copyWithin(d, s, s + len);
      return;
    }
    nativeCopy.call(src, dst, dstOff, srcOff, srcOff + len);
    return;
  }
  if (len >= NATIVE_MIN || ((s ^ d) & 7) !== 0) {
    nativeCopy.call(src, dst, dstOff, srcOff, srcOff + len);
    return;
  }
  // Bytes up to the first 8-aligned address, whole words, then the tail.
  const head = (8 - (s & 7)) & 7;
  const ws = views(sb).words;
  const wd = views(dst.buffer).words;
  const n = (len - head) >>> 3;
  const sw = (s + head) >>> 3;
  const dw = (d + head) >>> 3;
  if (sw + n > ws.length || dw + n > wd.length) {
    // A word view made before its (resizable or growable) buffer grew: words past its end would
    // read as undefined and land as NaN. Such buffers take the native copy.
    nativeCopy.call(src, dst, dstOff, srcOff, srcOff + len);
    return;
  }
  let i = 0;
  for (; i < head; i++) dst[dstOff + i] = src[srcOff + i]!;
  // Four loads, then four stores, per step: half the loop overhead of one word a step
  // (bench/packet "copy 1514 B between two shared buffers", next to Buffer.prototype.copy).
  let k = 0;
  const n4 = n & ~3;
  for (; k < n4; k += 4) {
    const a = ws[sw + k]!;
    const b = ws[sw + k + 1]!;
    const c = ws[sw + k + 2]!;
    const e = ws[sw + k + 3]!;
    wd[dw + k] = a;
    wd[dw + k + 1] = b;
    wd[dw + k + 2] = c;
    wd[dw + k + 3] = e;
  }
  for (; k < n; k++) wd[dw + k] = ws[sw + k]!;
  for (i = head + (n << 3); i < len; i++) dst[dstOff + i] = src[srcOff + i]!;
}

/**
 * Bytes to skip at `dstAbs` so that a copy from `srcAbs` keeps every byte at the same address
 * modulo 8. V8 copies to, from or within a SharedArrayBuffer with a relaxed-atomic memcpy that
 * moves whole words only when source and destination are equally aligned; otherwise it goes byte
 * by byte. Measured here for 64 KB: 2.1 µs aligned against 16–18 µs at any other offset (1460 B:
 * 0.1 µs against 0.4 µs). Guest memory, send and receive buffers are all SharedArrayBuffers, so
 * whoever places bytes there (headers before a frame, a fragment in a section) leaves this gap
 * and says so in the RNDIS data_offset, which the protocol lets point anywhere past the PPIs.
 * Absolute offsets are from the start of each array's buffer (byteOffset + index).
 */
/** Copies shorter than this gain nothing from alignment (and are byte loops anyway below 64). */
export const ALIGN_MIN_LEN = 256;

export function alignGap(srcAbs: number, dstAbs: number): number {
  return (srcAbs - dstAbs) & 7;
}
