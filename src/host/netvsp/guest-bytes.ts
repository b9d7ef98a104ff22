/**
 * Byte copies between host buffers and a GPADL, page run by page run. Guest buffers are
 * described page by page and need not be physically contiguous (§2.12), so every copy walks
 * GpadlMapping.contiguous() with a caller-owned run: bounds-checked against the GPADL, no view
 * created per call (STYLE §2 data path).
 */
import { copyBytes } from '../../packet/index.js';
import type { ContiguousRun, GpadlMapping } from '../../vmbus/index.js';

/** Copies src[srcOff, +len) into the GPADL at `off`. Throws BAD_GPADL if the range leaves it. */
export function copyToGpadl(m: GpadlMapping, off: number, src: Uint8Array, srcOff: number, len: number, run: ContiguousRun): void {
  while (len > 0) {
    const n = m.contiguous(off, len, run);
    copyBytes(src, srcOff, run.u8, run.offset, n);
    off += n;
    srcOff += n;
    len -= n;
  }
}

/** Copies the GPADL's [off, +len) into dst[dstOff..]. Throws BAD_GPADL if the range leaves it. */
export function copyFromGpadl(m: GpadlMapping, off: number, dst: Uint8Array, dstOff: number, len: number, run: ContiguousRun): void {
  while (len > 0) {
    const n = m.contiguous(off, len, run);
    copyBytes(run.u8, run.offset, dst, dstOff, n);
    off += n;
    dstOff += n;
    len -= n;
  }
}
