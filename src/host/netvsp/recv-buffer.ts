/**
 * The guest's receive buffer as the host owns it (protocol.md §4.2): one GPADL cut into
 * `sectionCount` sub-allocations of `sectionSize` bytes, announced as ONE section {offset 0} in
 * SEND_RECV_BUF_COMPLETE. Sections are handed out from a preallocated free stack, chained to the
 * transfer-page packet that uses them, and returned only when the guest completes that packet
 * (§4.2 "the host must not reuse a range until the guest's completion").
 */
import type { GpadlMapping } from '../../vmbus/index.js';

/** Receive sections for frames may not take the last few: control replies keep a reserve (peers.md §1.6: 16). */
export const CONTROL_RESERVE_SECTIONS = 16;

/**
 * The control reserve for a buffer of `count` sections: 16 (peers.md §1.6) for a large buffer, an
 * eighth of a small one, never below 2 (one RNDIS reply plus one indication in flight). A flat 16
 * left a NIC with -G rx 20 only 4 sections for frames; count/8 keeps 7/8 of any buffer for them.
 */
export function controlReserve(count: number): number {
  return Math.max(2, Math.min(CONTROL_RESERVE_SECTIONS, count >> 3));
}

/**
 * Sub-allocation size for an NDIS-config MTU (Ethernet frame bytes, MTU + 14, §3.5): the frame,
 * the 44-byte RNDIS PACKET header, up to four 16-byte PPIs, rounded up to 8. This is openvmm's
 * "256 + MTU + 36" idea made explicit: 44 + 64 = 108 bytes of header room, plus slack to a
 * multiple of 8 so packed messages stay aligned. Linux accepts any size ≥ 68 (§8 item 13).
 */
export function recvSectionSize(ndisMtu: number): number {
  return (ndisMtu + 108 + 7) & ~7;
}

export class RecvBuffer {
  readonly sectionCount: number;
  /** Sections frames leave free for control replies (controlReserve unless given). */
  readonly reserve: number;
  private readonly freeStack: Int32Array;
  private freeTop: number;
  /** 1 while a section belongs to a packet (catches double frees). */
  private readonly inUse: Uint8Array;
  /** Next section in the chain of the same packet, -1 at the end. */
  private readonly nextInChain: Int32Array;
  private readonly slotHead: Int32Array;
  private readonly slotGen: Uint32Array;
  private readonly slotFree: Int32Array;
  private slotFreeTop: number;
  /** Frames each sent packet carries, for the revoke accounting (rx_unacked_revoked). */
  private readonly slotFrames: Uint32Array;
  /** 1 once the slot's packet went out (setFrames): only such a packet can be completed. */
  private readonly slotSent: Uint8Array;

  constructor(
    readonly mapping: GpadlMapping,
    readonly sectionSize: number,
    reserve?: number,
  ) {
    const n = Math.floor(mapping.len / sectionSize);
    this.sectionCount = n;
    this.reserve = reserve ?? controlReserve(n);
    this.freeStack = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeStack[i] = n - 1 - i; // section 0 is handed out first
    this.freeTop = n;
    this.inUse = new Uint8Array(n);
    this.nextInChain = new Int32Array(n).fill(-1);
    // A packet holds at least one section, so there are never more packets than sections.
    this.slotHead = new Int32Array(n).fill(-2);
    this.slotGen = new Uint32Array(n);
    this.slotFree = new Int32Array(n);
    for (let i = 0; i < n; i++) this.slotFree[i] = n - 1 - i;
    this.slotFreeTop = n;
    this.slotFrames = new Uint32Array(n);
    this.slotSent = new Uint8Array(n);
  }

  get sectionsInUse(): number {
    return this.sectionCount - this.freeTop;
  }

  get packetsInFlight(): number {
    return this.sectionCount - this.slotFreeTop;
  }

  /**
   * Read-only consistency check for tests and fuzzers: every section is either on the free stack
   * or on the chain of exactly one open packet, never both, never twice. Returns null when sound,
   * else what is wrong. O(sections); not for the data path.
   */
  audit(): string | null {
    const n = this.sectionCount;
    const seen = new Uint8Array(n); // 1 = free, 2 = chained
    for (let i = 0; i < this.freeTop; i++) {
      const s = this.freeStack[i]!;
      if (seen[s] !== 0) return `section ${s} twice on the free stack`;
      if (this.inUse[s] !== 0) return `section ${s} free but marked in use`;
      seen[s] = 1;
    }
    const slotSeen = new Uint8Array(n);
    for (let i = 0; i < this.slotFreeTop; i++) {
      const slot = this.slotFree[i]!;
      if (slotSeen[slot] !== 0 || this.slotHead[slot] !== -2) return `slot ${slot} free twice or free with a chain`;
      slotSeen[slot] = 1;
    }
    for (let slot = 0; slot < n; slot++) {
      if (slotSeen[slot] !== 0) continue;
      // Bounded walk: a cycle would revisit a section, which `seen` catches.
      for (let s = this.slotHead[slot]!; s >= 0; s = this.nextInChain[s]!) {
        if (seen[s] !== 0) return `section ${s} of packet slot ${slot} is ${seen[s] === 1 ? 'also free' : 'owned twice'}`;
        seen[s] = 2;
      }
    }
    for (let s = 0; s < n; s++) if (seen[s] === 0) return `section ${s} is neither free nor owned (leaked)`;
    return null;
  }

  /** A free section index, or -1. Frames leave `reserve` sections for control replies. */
  allocSection(control: boolean): number {
    if (this.freeTop <= (control ? 0 : Math.min(this.reserve, this.sectionCount - 1))) return -1;
    const s = this.freeStack[--this.freeTop]!;
    this.inUse[s] = 1;
    this.nextInChain[s] = -1;
    return s;
  }

  /** A packet slot, or -1; its trans_id is (slot + 1, generation). */
  openPacket(): number {
    if (this.slotFreeTop === 0) return -1;
    const slot = this.slotFree[--this.slotFreeTop]!;
    this.slotHead[slot] = -1;
    this.slotGen[slot] = (this.slotGen[slot]! + 1) >>> 0;
    return slot;
  }

  /** The packet in `slot` went out carrying `frames` frames; from now on the guest may complete it. */
  setFrames(slot: number, frames: number): void {
    this.slotFrames[slot] = frames;
    this.slotSent[slot] = 1;
  }

  /** Frames in packets sent and not yet completed (revoke time only: O(sections)). */
  framesInFlight(): number {
    let n = 0;
    for (let slot = 0; slot < this.sectionCount; slot++) if (!this.isFreeSlot(slot)) n += this.slotFrames[slot]!;
    return n;
  }

  transIdHi(slot: number): number {
    return this.slotGen[slot]!;
  }

  /** Puts section `s` on the chain of packet `slot`. */
  chain(slot: number, s: number): void {
    this.nextInChain[s] = this.slotHead[slot]!;
    this.slotHead[slot] = s;
  }

  /** A packet that was never sent (no ranges) gives its slot back, and any sections. */
  abandon(slot: number): void {
    this.release(slot);
  }

  /**
   * The guest completed trans_id (lo, hi): frees the packet's sections. False for an id we did
   * not send or already saw completed (unknown / duplicate, §8 item 4 from the host side), and
   * for the id of the burst still being filled (a guest guessing it would free sections the
   * host is writing into).
   */
  complete(lo: number, hi: number): boolean {
    const slot = lo - 1;
    if (!(slot >= 0 && slot < this.sectionCount) || this.slotGen[slot] !== hi || this.slotSent[slot] !== 1) return false;
    this.release(slot);
    return true;
  }

  private isFreeSlot(slot: number): boolean {
    // slotHead is -2 for a free slot (set by release); an open slot has -1 or a section.
    return this.slotHead[slot] === -2;
  }

  private release(slot: number): void {
    let s = this.slotHead[slot]!;
    while (s >= 0) {
      const next = this.nextInChain[s]!;
      if (this.inUse[s] === 1) {
        this.inUse[s] = 0;
        this.freeStack[this.freeTop++] = s;
      }
      s = next;
    }
    this.slotHead[slot] = -2;
    this.slotFrames[slot] = 0;
    this.slotSent[slot] = 0;
    this.slotFree[this.slotFreeTop++] = slot;
  }
}
