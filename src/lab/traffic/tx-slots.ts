/**
 * Where traffic generators build LSO super-frames to send in place (Contract A,
 * NetvscDevice.xmitInPlace): a run of this VM's guest pages, described to the host once
 * (mapTxPages), cut into fixed slots of one 64 KB frame each. A generator claims slots for its
 * LSO sizes while it runs; a slot's bytes stay untouched from the send until onTxDone of its token,
 * even after the generator that sent it stopped (the next owner skips it until then). Fixed
 * arrays, no allocation per frame.
 */

/** Generator tokens start here: above the TAP arena's record tokens (tx-arena.ts masks below it: a power of two), below 2^30 (small integers). */
export const GEN_TOKEN_BASE = 1 << 29;
/** One slot: the largest LSO super-frame (64 KB IP + Ethernet + 802.1Q) in whole pages. */
export const GEN_SLOT_BYTES = 17 * 4096;

export class GenTxSlots {
  readonly count: number;
  /** Guest physical address of each slot. */
  readonly off: Int32Array;
  /** Sent in place, not yet done. */
  readonly busy: Uint8Array;
  /** Which template (GenTxSlots.newTemplateId) the slot holds now, 0 = none. */
  readonly template: Int32Array;
  /** The send popped an 802.1Q tag into the PPI (the frame moved 4 bytes): put it back before reuse. */
  readonly popped: Uint8Array;
  /** Views of the slots in guest memory, made once. */
  readonly views: Uint8Array[] = [];
  private readonly owned: Uint8Array;
  private nextTemplate = 1;
  /** onTxDone tokens for no slot in flight (a hostile or confused completion): ignored (stats lab tx_done_ignored_gen). */
  badTokens = 0;

  constructor(
    readonly memory: Uint8Array,
    base: number,
    bytes: number,
  ) {
    this.count = Math.floor(bytes / GEN_SLOT_BYTES);
    this.off = new Int32Array(this.count);
    this.busy = new Uint8Array(this.count);
    this.template = new Int32Array(this.count);
    this.popped = new Uint8Array(this.count);
    this.owned = new Uint8Array(this.count);
    for (let i = 0; i < this.count; i++) {
      this.off[i] = base + i * GEN_SLOT_BYTES;
      this.views.push(memory.subarray(this.off[i]!, this.off[i]! + GEN_SLOT_BYTES));
    }
  }

  /** Up to `n` unowned slots (their indices), now owned by the caller; fewer when others hold them. */
  claim(n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count && out.length < n; i++) {
      if (this.owned[i] !== 0) continue;
      this.owned[i] = 1;
      out.push(i);
    }
    return out;
  }

  /** Gives slots back (a generator stopped); any still in flight stay busy until their onTxDone. */
  release(slots: ArrayLike<number>): void {
    for (let i = 0; i < slots.length; i++) if (slots[i]! >= 0) this.owned[slots[i]!] = 0;
  }

  newTemplateId(): number {
    return this.nextTemplate++;
  }

  /** The NIC's onTxDone for a generator token. */
  done(token: number): void {
    const s = token - GEN_TOKEN_BASE;
    // busy[s] !== 1 also refuses a fraction (a typed array has no such index: undefined).
    if (!(s >= 0 && s < this.count) || this.busy[s] !== 1) {
      this.badTokens++;
      return;
    }
    this.busy[s] = 0;
  }

  /**
   * Frees every slot in flight: the device that took them is closed and will never return them
   * (TxDoneRouter.retire at a re-probe). Without this each such slot stayed busy for good and the
   * generators lost it. Returns how many (the router counts them).
   */
  abandonInFlight(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) {
      n += this.busy[i]!;
      this.busy[i] = 0;
    }
    return n;
  }

  get inFlight(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += this.busy[i]!;
    return n;
  }
}
