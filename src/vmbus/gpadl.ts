import { ResourceError } from '../core/index.js';
import { PAGE_SHIFT, PAGE_SIZE } from './guest-memory.js';

/** A contiguous stretch of guest memory: `u8[offset, offset+len)`. Filled in place, never allocated per call. */
export interface ContiguousRun {
  u8: Uint8Array;
  offset: number;
  len: number;
}

/** A fresh run to pass to GpadlMapping.contiguous(); allocate once per queue. */
export function newContiguousRun(): ContiguousRun {
  return { u8: new Uint8Array(0), offset: 0, len: 0 };
}

/**
 * The host's view of one GPADL (§2.12): a byte range `[0, len)` laid over a PFN list that need
 * not be contiguous. Every access is bounds-checked against the GPADL, never against guest memory
 * as a whole, because the host may touch only what the guest described.
 */
export class GpadlMapping {
  /** Pages from page i that follow each other physically (runs[i] ≥ 1); for zero-copy runs. */
  private readonly runPages: Uint32Array;
  private released = false;

  constructor(
    readonly handle: number,
    readonly pfns: Uint32Array,
    /** Bytes described: the range byte_count (≤ pages × 4096). */
    readonly len: number,
    private readonly mem: Uint8Array,
    private readonly onRelease: (m: GpadlMapping) => void,
  ) {
    this.runPages = new Uint32Array(pfns.length);
    for (let i = pfns.length - 1; i >= 0; i--) {
      const next = i + 1 < pfns.length && pfns[i + 1] === pfns[i]! + 1 ? this.runPages[i + 1]! : 0;
      this.runPages[i] = next + 1;
    }
  }

  /** Guest physical address of byte `off` of the GPADL (caller has checked the range). */
  gpa(off: number): number {
    return this.pfns[off >>> PAGE_SHIFT]! * PAGE_SIZE + (off & (PAGE_SIZE - 1));
  }

  /**
   * The longest physically contiguous run starting at `off`, at most `len` bytes, into `out`.
   * Returns out.len; a caller wanting all of `len` loops, advancing by out.len.
   */
  contiguous(off: number, len: number, out: ContiguousRun): number {
    checkRange(this, off, len);
    const page = off >>> PAGE_SHIFT;
    const runEnd = (page + this.runPages[page]!) * PAGE_SIZE;
    out.u8 = this.mem;
    out.offset = this.gpa(off);
    out.len = Math.min(len, runEnd - off);
    return out.len;
  }

  /** Copies `len` bytes at GPADL offset `off` into dst, page run by page run. */
  read(off: number, dst: Uint8Array, dstOff: number, len: number): void {
    checkRange(this, off, len);
    while (len > 0) {
      const n = this.runLen(off, len);
      const at = this.gpa(off);
      dst.set(this.mem.subarray(at, at + n), dstOff);
      off += n;
      dstOff += n;
      len -= n;
    }
  }

  /** Copies `len` bytes of src into the GPADL at `off`. */
  write(off: number, src: Uint8Array, srcOff: number, len: number): void {
    checkRange(this, off, len);
    while (len > 0) {
      const n = this.runLen(off, len);
      this.mem.set(src.subarray(srcOff, srcOff + n), this.gpa(off));
      off += n;
      srcOff += n;
      len -= n;
    }
  }

  /** Copies a range of this GPADL into another mapping (or itself, non-overlapping) without a bounce buffer. */
  copyTo(off: number, dst: GpadlMapping, dstOff: number, len: number): void {
    checkRange(this, off, len);
    checkRange(dst, dstOff, len);
    while (len > 0) {
      const n = Math.min(this.runLen(off, len), dst.runLen(dstOff, len));
      const from = this.gpa(off);
      dst.mem.set(this.mem.subarray(from, from + n), dst.gpa(dstOff));
      off += n;
      dstOff += n;
      len -= n;
    }
  }

  /** Drops this mapping; a teardown that was waiting for it may now complete. */
  unmap(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this);
  }

  get mapped(): boolean {
    return !this.released;
  }

  private runLen(off: number, len: number): number {
    const page = off >>> PAGE_SHIFT;
    return Math.min(len, (page + this.runPages[page]!) * PAGE_SIZE - off);
  }
}

/**
 * Range check the NetVSP host uses for transfer-page ranges and send-buffer sections: `[off, off+len)`
 * must lie inside the GPADL. Throws ResourceError BAD_GPADL; the caller counts and completes the
 * packet with a failure status (§4 of the protocol has one for RNDIS packets).
 */
export function checkRange(mapping: GpadlMapping, off: number, len: number): void {
  if (!(off >= 0 && len >= 0 && off + len <= mapping.len && Number.isInteger(off) && Number.isInteger(len))) {
    throw new ResourceError('BAD_GPADL', `range [${off}, +${len}) outside GPADL ${mapping.handle} of ${mapping.len} B`);
  }
}

/** Same check, as a boolean, for hot paths that count and complete with a status instead of throwing. */
export function rangeInside(mapping: GpadlMapping, off: number, len: number): boolean {
  return off >= 0 && len >= 0 && off + len <= mapping.len;
}

/** GPADLs one VM may hold at once by default: a netvsc NIC uses one per channel (≤ 65) plus a few buffers. */
export const MAX_GPADLS_PER_VM = 1024;

/** A page may appear this many times across a VM's GPADLs (a u16 count; a PFN list may repeat a page). */
export const MAX_PAGE_REFS = 0xffff;

export interface GpadlTableOptions {
  /** GPADLs the VM may hold at once (created, not yet torn down); default MAX_GPADLS_PER_VM. */
  readonly maxGpadls?: number;
}

interface GpadlEntry {
  readonly pfns: Uint32Array;
  readonly len: number;
  mappings: number;
  teardownWaiters: (() => void)[];
}

/**
 * The host's table of one VM's GPADLs, keyed by the guest-chosen handle. It holds the VM's memory
 * privately: mappings are the only door. Teardown of a mapped GPADL is refused (teardown) or
 * deferred until the last unmap (requestTeardown), as Hyper-V delays GPADL_TORNDOWN (§2.12).
 */
export class GpadlTable {
  private readonly mem: Uint8Array;
  private readonly pageCount: number;
  private readonly entries = new Map<number, GpadlEntry>();
  /** How many GPADLs include each page: GPA-direct ranges must name pages the guest described. */
  private readonly pageRefs: Uint16Array;
  readonly maxGpadls: number;

  constructor(memory: SharedArrayBuffer, o: GpadlTableOptions = {}) {
    this.maxGpadls = o.maxGpadls ?? MAX_GPADLS_PER_VM;
    this.mem = new Uint8Array(memory);
    this.pageCount = memory.byteLength >>> PAGE_SHIFT;
    this.pageRefs = new Uint16Array(this.pageCount);
  }

  /**
   * Registers a GPADL. `len` defaults to all pages. BAD_GPADL on a reused handle, a page outside
   * memory or a len past the pages; LIMIT when the VM already holds maxGpadls GPADLs or a page
   * would be counted in more than MAX_PAGE_REFS of them (the table is then unchanged).
   */
  create(handle: number, pfns: ArrayLike<number>, len = pfns.length * PAGE_SIZE): void {
    if (this.entries.has(handle)) throw new ResourceError('BAD_GPADL', `GPADL handle ${handle} already exists`);
    if (this.full) throw new ResourceError('LIMIT', `GPADL ${handle}: the VM already holds ${this.maxGpadls} GPADLs`);
    if (pfns.length === 0 || len <= 0 || len > pfns.length * PAGE_SIZE) {
      throw new ResourceError('BAD_GPADL', `GPADL ${handle}: ${len} B over ${pfns.length} pages`);
    }
    const list = new Uint32Array(pfns.length);
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i]!;
      if (!(Number.isInteger(pfn) && pfn > 0 && pfn < this.pageCount)) {
        throw new ResourceError('BAD_GPADL', `GPADL ${handle}: PFN ${pfn} outside guest memory of ${this.pageCount} pages`);
      }
      list[i] = pfn;
    }
    for (let i = 0; i < list.length; i++) {
      const pfn = list[i]!;
      if (this.pageRefs[pfn] === MAX_PAGE_REFS) {
        // Refuse rather than let the u16 wrap: after a wrap the teardowns drive the count below zero
        // (65535), and GPA-direct reads of a page no GPADL describes any more would pass.
        for (let j = 0; j < i; j++) this.pageRefs[list[j]!]!--;
        throw new ResourceError('LIMIT', `GPADL ${handle}: page ${pfn} is already in ${MAX_PAGE_REFS} GPADL entries`);
      }
      this.pageRefs[pfn]!++;
    }
    this.entries.set(handle, { pfns: list, len, mappings: 0, teardownWaiters: [] });
  }

  has(handle: number): boolean {
    return this.entries.has(handle);
  }

  /** Maps a GPADL for host access. BAD_GPADL when the handle is unknown. */
  map(handle: number): GpadlMapping {
    const e = this.entries.get(handle);
    if (!e) throw new ResourceError('BAD_GPADL', `unknown GPADL handle ${handle}`);
    e.mappings++;
    return new GpadlMapping(handle, e.pfns, e.len, this.mem, () => this.release(handle));
  }

  /** Tears a GPADL down now; ResourceError BUSY while any mapping of it is live. */
  teardown(handle: number): void {
    const e = this.entries.get(handle);
    if (!e) throw new ResourceError('BAD_GPADL', `unknown GPADL handle ${handle}`);
    if (e.mappings > 0) throw new ResourceError('BUSY', `GPADL ${handle} is mapped ${e.mappings} time(s)`);
    this.remove(handle, e);
  }

  /** Tears down now if unmapped, else when the last mapping is released; `done` runs then. */
  requestTeardown(handle: number, done: () => void): 'done' | 'deferred' {
    const e = this.entries.get(handle);
    if (!e) throw new ResourceError('BAD_GPADL', `unknown GPADL handle ${handle}`);
    if (e.mappings === 0) {
      this.remove(handle, e);
      done();
      return 'done';
    }
    e.teardownWaiters.push(done);
    return 'deferred';
  }

  /** True when every page of `[pfn, pfn+count)` belongs to some GPADL of this VM. */
  pagesDescribed(pfn: number, count: number): boolean {
    if (!(pfn >= 0 && pfn + count <= this.pageCount)) return false;
    for (let i = 0; i < count; i++) if (this.pageRefs[pfn + i] === 0) return false;
    return true;
  }

  /**
   * Copies bytes named by a GPA-direct range (§2.10): `byteOffset` into the first of `count`
   * consecutive pages starting at `pfn`. BAD_GPADL unless every page lies in a GPADL.
   */
  readGpa(pfn: number, count: number, byteOffset: number, byteCount: number, dst: Uint8Array, dstOff: number): void {
    const at = this.gpaOffset(pfn, count, byteOffset, byteCount);
    dst.set(this.mem.subarray(at, at + byteCount), dstOff);
  }

  /**
   * readGpa()'s checks without the copy: where the range's bytes start in `memory`. The data path
   * copies them itself (host tx-path with packet/copy.ts copyBytes, which vmbus cannot import):
   * set() over a subarray is a new view per range.
   */
  gpaOffset(pfn: number, count: number, byteOffset: number, byteCount: number): number {
    if (byteOffset + byteCount > count * PAGE_SIZE || !this.pagesDescribed(pfn, count)) {
      throw new ResourceError('BAD_GPADL', `GPA range pfn ${pfn}+${count} off ${byteOffset} len ${byteCount} names pages outside any GPADL`);
    }
    return pfn * PAGE_SIZE + byteOffset;
  }

  /** Guest memory, indexed by guest physical address: read only at what gpaOffset() returned. */
  get memory(): Uint8Array {
    return this.mem;
  }

  get size(): number {
    return this.entries.size;
  }

  /** True when create() would refuse any new GPADL with LIMIT. */
  get full(): boolean {
    return this.entries.size >= this.maxGpadls;
  }

  private release(handle: number): void {
    const e = this.entries.get(handle);
    if (!e) return;
    e.mappings--;
    if (e.mappings === 0 && e.teardownWaiters.length > 0) {
      const waiters = e.teardownWaiters;
      this.remove(handle, e);
      for (const w of waiters) w();
    }
  }

  private remove(handle: number, e: GpadlEntry): void {
    for (const pfn of e.pfns) this.pageRefs[pfn]!--;
    this.entries.delete(handle);
  }
}
