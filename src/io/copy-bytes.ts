/**
 * Copies src[off, off+len) to dst[to...] on the data path. TypedArray.set() copies only whole
 * arrays, so a range would need a subarray view per frame; small frames are copied byte by byte
 * instead (cheaper than the view below ~128 bytes, platform.md §6a), whole arrays go through
 * set() directly, and only large ranges pay for one view.
 */
const SMALL_COPY_LEN = 128;

export function copyBytes(dst: Uint8Array, to: number, src: Uint8Array, off: number, len: number): void {
  if (off === 0 && len === src.length) dst.set(src, to);
  else if (len <= SMALL_COPY_LEN) for (let i = 0; i < len; i++) dst[to + i] = src[off + i]!;
  else dst.set(src.subarray(off, off + len), to);
}
