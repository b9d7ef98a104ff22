import { PAGE_SIZE, type GuestMemory, type PageAllocator, type VmbusGuest } from '../../vmbus/index.js';

/**
 * A queue's preallocated guest pages for frames that go GPA-direct (protocol.md §4.5). The frame
 * bytes a caller hands to send() live in its own memory, not in guest memory the host can read,
 * so such a frame is copied once into a slot here and described by one multi-PFN range. All slots
 * are one contiguous run allocated at attach, so no frame ever allocates; the run is described to
 * the host by its own GPADL, because our host reads GPA ranges only inside described pages.
 */
export class TxPagePool {
  readonly slotBytes: number;
  private readonly firstPfn: number;
  private readonly pages: number;
  private readonly free_: Int32Array;
  private top: number;

  constructor(
    readonly memory: GuestMemory,
    private readonly allocator: PageAllocator,
    readonly slots: number,
    slotPages: number,
  ) {
    this.slotBytes = slotPages * PAGE_SIZE;
    this.pages = slots * slotPages;
    this.firstPfn = slots > 0 ? allocator.allocContiguous(this.pages) : 0;
    this.free_ = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.free_[i] = slots - 1 - i;
    this.top = slots;
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
    if (this.slots === 0) return;
    const pfns = Array.from({ length: this.pages }, (_, i) => this.firstPfn + i);
    this.gpadl = await bus.establishGpadl(pfns, this.pages * PAGE_SIZE, relid);
  }

  /** Tears the GPADL down and frees the pages. */
  async release(bus: VmbusGuest, relid: number): Promise<void> {
    if (this.gpadl >= 0) await bus.teardownGpadl(this.gpadl, relid);
    this.gpadl = -1;
    if (this.slots > 0) this.allocator.freeRun(this.firstPfn, this.pages);
  }
}
