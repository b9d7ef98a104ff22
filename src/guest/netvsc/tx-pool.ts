import { PAGE_SIZE, type GuestMemory, type PageAllocator, type VmbusGuest } from '../../vmbus/index.js';

/** Bytes of one header cell: RNDIS header + 3 PPIs (92 B) at any of 8 alignments, rounded up. */
export const TX_HEADER_CELL = 128;
/** Header cells per queue (one page): in-place frames in flight on one queue at most. */
export const TX_HEADER_CELLS = PAGE_SIZE / TX_HEADER_CELL;

/**
 * A fixed set of indices 0..n-1 handed out last-freed first (0 first at the start). No checks:
 * the owner frees only what it took. No allocation after construction.
 */
export class IndexStack {
  private readonly free_: Int32Array;
  private top: number;

  constructor(n: number) {
    this.free_ = new Int32Array(n);
    for (let i = 0; i < n; i++) this.free_[i] = n - 1 - i;
    this.top = n;
  }

  get available(): number {
    return this.top;
  }

  /** An index, or -1 when every one is taken. */
  take(): number {
    return this.top === 0 ? -1 : this.free_[--this.top]!;
  }

  put(i: number): void {
    this.free_[this.top++] = i;
  }

  /** Calls `visit` for every free index (introspection, not the data path). */
  forEach(visit: (i: number) => void): void {
    for (let k = 0; k < this.top; k++) visit(this.free_[k]!);
  }
}

/**
 * A queue's preallocated guest pages for frames that go GPA-direct (protocol.md §4.5). The frame
 * bytes a caller hands to send() live in its own memory, not in guest memory the host can read,
 * so such a frame is copied once into a slot here and described by one multi-PFN range. A frame
 * sent in place (xmitInPlace) already lives in guest memory: only its RNDIS header + PPIs are
 * written, into a small header cell here, as a range of their own. All slots and cells are one
 * contiguous run allocated at attach, so no frame ever allocates; the run is described to the
 * host by its own GPADL, because our host reads GPA ranges only inside described pages.
 */
export class TxPagePool {
  readonly slotBytes: number;
  private readonly firstPfn: number;
  private readonly pages: number;
  private readonly slotFree: IndexStack;
  private readonly cellFree = new IndexStack(TX_HEADER_CELLS);
  /** Guest physical address of the header page (after the slots). */
  private readonly cellBase: number;

  constructor(
    readonly memory: GuestMemory,
    private readonly allocator: PageAllocator,
    readonly slots: number,
    slotPages: number,
  ) {
    this.slotBytes = slotPages * PAGE_SIZE;
    this.pages = slots * slotPages + 1;
    this.firstPfn = allocator.allocContiguous(this.pages);
    this.cellBase = memory.gpa(this.firstPfn) + slots * this.slotBytes;
    this.slotFree = new IndexStack(slots);
  }

  /** Free header cells. */
  get cellsAvailable(): number {
    return this.cellFree.available;
  }

  /** A header cell index, or -1 when every cell is in flight. */
  allocCell(): number {
    return this.cellFree.take();
  }

  freeCell(cell: number): void {
    this.cellFree.put(cell);
  }

  /** Guest physical address of a header cell's first byte (128-byte aligned). */
  cellGpa(cell: number): number {
    return this.cellBase + cell * TX_HEADER_CELL;
  }

  get available(): number {
    return this.slotFree.available;
  }

  /** A slot index, or -1 when every slot is in flight. */
  alloc(): number {
    return this.slotFree.take();
  }

  free(slot: number): void {
    this.slotFree.put(slot);
  }

  /** Guest physical address of a slot's first byte. */
  gpa(slot: number): number {
    return this.memory.gpa(this.firstPfn) + slot * this.slotBytes;
  }

  private gpadl = -1;

  async register(bus: VmbusGuest, relid: number): Promise<void> {
    const pfns = Array.from({ length: this.pages }, (_, i) => this.firstPfn + i);
    this.gpadl = await bus.establishGpadl(pfns, this.pages * PAGE_SIZE, relid);
  }

  /** Tears the GPADL down and frees the pages. */
  async release(bus: VmbusGuest, relid: number): Promise<void> {
    if (this.gpadl >= 0) await bus.teardownGpadl(this.gpadl, relid);
    this.gpadl = -1;
    this.allocator.freeRun(this.firstPfn, this.pages);
  }
}
