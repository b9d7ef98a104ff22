import { ResourceError } from '../core/index.js';
import { HV_PAGE_SIZE } from '../wire/index.js';

/** Hyper-V pages are 4 KiB whatever the guest page size (protocol.md §2.1). */
export const PAGE_SIZE = HV_PAGE_SIZE;
export const PAGE_SHIFT = 12;

/**
 * One VM's physical memory: a single SharedArrayBuffer addressed by 4 KiB PFN. The guest owns it
 * and reads it freely; the host receives the same SharedArrayBuffer but wraps it only in a
 * GpadlTable, so every host access goes through a GPADL mapping (§2.12).
 */
export class GuestMemory {
  readonly sab: SharedArrayBuffer;
  readonly pageCount: number;
  /** The whole of guest memory as bytes, indexed by guest physical address. */
  readonly u8: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    if (sab.byteLength % PAGE_SIZE !== 0 || sab.byteLength === 0) {
      throw new ResourceError('BAD_GPADL', `guest memory of ${sab.byteLength} B is not whole 4 KiB pages`);
    }
    this.sab = sab;
    this.pageCount = sab.byteLength >>> PAGE_SHIFT;
    this.u8 = new Uint8Array(sab);
  }

  /** Allocates a zeroed memory of `pageCount` pages. */
  static create(pageCount: number): GuestMemory {
    return new GuestMemory(new SharedArrayBuffer(pageCount * PAGE_SIZE));
  }

  /** Guest physical address of the first byte of a page. */
  gpa(pfn: number): number {
    return pfn * PAGE_SIZE;
  }
}

/**
 * The guest's page allocator: contiguous runs for rings (§2.1 wants one physically contiguous
 * block per channel) and any free pages for buffers, which GPADLs describe page by page.
 * A byte per page keeps it simple; this is control path only.
 */
export class PageAllocator {
  private readonly used: Uint8Array;
  private free_: number;

  /** @param reservedLow pages at the bottom that are never handed out (PFN 0 stays unused, as on real hardware). */
  constructor(
    readonly pageCount: number,
    reservedLow = 1,
  ) {
    this.used = new Uint8Array(pageCount);
    this.used.fill(1, 0, Math.min(reservedLow, pageCount));
    this.free_ = pageCount - Math.min(reservedLow, pageCount);
  }

  get freePages(): number {
    return this.free_;
  }

  /** First PFN of `count` consecutive free pages. Throws ResourceError LIMIT when no run is long enough. */
  allocContiguous(count: number): number {
    if (count <= 0) throw new ResourceError('LIMIT', `cannot allocate ${count} pages`);
    let run = 0;
    for (let pfn = 0; pfn < this.pageCount; pfn++) {
      run = this.used[pfn] ? 0 : run + 1;
      if (run === count) {
        const first = pfn - count + 1;
        this.used.fill(1, first, pfn + 1);
        this.free_ -= count;
        return first;
      }
    }
    throw new ResourceError('LIMIT', `no run of ${count} free pages (${this.free_} free)`);
  }

  /**
   * `count` free pages anywhere. With `scatter` the pages are taken from alternate ends of
   * the free space, so tests get a PFN list that is certainly not contiguous.
   */
  allocPages(count: number, scatter = false): number[] {
    if (count > this.free_) throw new ResourceError('LIMIT', `${count} pages wanted, ${this.free_} free`);
    const out: number[] = [];
    let lo = 0;
    let hi = this.pageCount - 1;
    while (out.length < count) {
      const fromTop = scatter && out.length % 2 === 1;
      if (fromTop) {
        while (this.used[hi]) hi--;
        this.used[hi] = 1;
        out.push(hi);
      } else {
        while (this.used[lo]) lo++;
        this.used[lo] = 1;
        out.push(lo);
      }
    }
    this.free_ -= count;
    return out;
  }

  /** Returns pages to the allocator; freeing a page that is not allocated is a bug and throws. */
  free(pfns: readonly number[]): void {
    for (const pfn of pfns) {
      if (pfn < 0 || pfn >= this.pageCount || !this.used[pfn]) {
        throw new ResourceError('BAD_GPADL', `free of unallocated page ${pfn}`);
      }
    }
    for (const pfn of pfns) this.used[pfn] = 0;
    this.free_ += pfns.length;
  }

  freeRun(first: number, count: number): void {
    const pfns: number[] = [];
    for (let i = 0; i < count; i++) pfns.push(first + i);
    this.free(pfns);
  }
}
