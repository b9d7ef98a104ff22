import { ResourceError } from '../../core/index.js';
import { PAGE_SIZE, type GuestMemory, type PageAllocator, type VmbusGuest } from '../../vmbus/index.js';

/**
 * Guest pages that carry RNDIS control messages to the host (protocol.md §3.8: control messages go
 * GPA-direct, one range over the request). A page is busy from the send until the host's NVSP 108
 * completion for that packet, because the host may read it until then. The pages are described
 * to the host by a GPADL of their own: our host (like Hyper-V for isolated VMs) only reads GPA
 * ranges that lie in pages some GPADL describes.
 */
export class ControlPages {
  readonly pfns: readonly number[];
  private readonly busy: Uint8Array;

  constructor(
    readonly memory: GuestMemory,
    private readonly allocator: PageAllocator,
    count: number,
  ) {
    this.pfns = allocator.allocPages(count);
    this.busy = new Uint8Array(count);
  }

  private gpadl = -1;

  /** Describes the pages to the host (one GPADL). */
  async register(bus: VmbusGuest, relid: number): Promise<void> {
    this.gpadl = await bus.establishGpadl([...this.pfns], this.pfns.length * PAGE_SIZE, relid);
  }

  /** Tears the GPADL down (if any) and frees the pages. */
  async release(bus: VmbusGuest, relid: number): Promise<void> {
    if (this.gpadl >= 0) await bus.teardownGpadl(this.gpadl, relid);
    this.gpadl = -1;
    this.destroy();
  }

  /** A free page index; throws LIMIT when every page waits for its completion. */
  take(): number {
    const i = this.busy.indexOf(0);
    if (i < 0) throw new ResourceError('LIMIT', `all ${this.busy.length} RNDIS control pages await their completion`);
    this.busy[i] = 1;
    return i;
  }

  done(i: number): void {
    if (this.busy[i] !== 1) throw new ResourceError('BAD_TRANSACTION', `control page ${i} is not in flight`);
    this.busy[i] = 0;
  }

  /** A DataView over page i (zeroed), for emitRndis. */
  view(i: number): DataView {
    const at = this.memory.gpa(this.pfns[i]!);
    this.memory.u8.fill(0, at, at + PAGE_SIZE);
    return new DataView(this.memory.sab, at, PAGE_SIZE);
  }

  destroy(): void {
    this.allocator.free(this.pfns);
  }
}
