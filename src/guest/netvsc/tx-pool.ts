import { PAGE_SIZE, type GuestMemory, type PageAllocator, type VmbusGuest } from '../../vmbus/index.js';

/** Bytes of one header cell: RNDIS header + 3 PPIs (92 B) at any of 8 alignments, rounded up. */
export const TX_HEADER_CELL = 128;
/** Header cells per queue (one page): in-place frames in flight on one queue at most. */
export const TX_HEADER_CELLS = PAGE_SIZE / TX_HEADER_CELL;

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
  private readonly free_: Int32Array;
  private top: number;
  private readonly cellFree = new Int32Array(TX_HEADER_CELLS);
  private cellTop = TX_HEADER_CELLS;
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
    this.free_ = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.free_[i] = slots - 1 - i;
    this.top = slots;
    for (let i = 0; i < TX_HEADER_CELLS; i++) this.cellFree[i] = TX_HEADER_CELLS - 1 - i;
  }

  /** Free header cells. */
  get cellsAvailable(): number {
    return this.cellTop;
  }

  /** A header cell index, or -1 when every cell is in flight. */
  allocCell(): number {
    return this.cellTop === 0 ? -1 : this.cellFree[--this.cellTop]!;
  }

  freeCell(cell: number): void {
    this.cellFree[this.cellTop++] = cell;
  }

  /** Guest physical address of a header cell's first byte (128-byte aligned). */
  cellGpa(cell: number): number {
    return this.cellBase + cell * TX_HEADER_CELL;
  }

  get available(): number {
    return this.top;
  }

  /** A slot index, or -1 when every slot is in flight. */
  alloc(): number {
    return this.top === 0 ? -1 : this.free_[--this.top]!;
  }

  free(slot: number): void {
    this.free_[this.top++] = slot;
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
