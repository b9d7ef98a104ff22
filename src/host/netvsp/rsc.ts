/**
 * Receive segment coalescing over VMBus (protocol.md §5.6, §6.5; issue 5 item 6), one per receive
 * queue, used when the profile has RSC (NVSP 6.1 hosts) and the guest enabled it in its offload
 * parameters (rsc_ip_v4/v6 = 2). Consecutive in-order TCP segments of a flow inside one receive
 * burst are merged by the Linux GRO rules (GroEngine) and the merged packet is written as RSC
 * fragments: RNDIS PACKETs with the RNDIS_PKTINFO_ID PPI (SUBALLOC, 1ST_FRAG on the first,
 * LAST_FRAG on the last), consecutive ranges of the same transfer-page packet. A packet of one
 * segment goes out as a normal RNDIS PACKET with its own PPIs.
 *
 * Each frame's receive PPIs (checksum state, hash, VLAN) are saved in a ring and follow their
 * packet as GroEngine's tag, so a coalesced packet carries its first segment's PPIs (§5.6).
 */
import { GroEngine, vlanKeyOf, type GroSink } from '../../packet/index.js';
import { CSUM_RX, NDIS_OFFLOAD_PARAMETERS_RSC_ENABLED } from '../../wire/index.js';
import { PortFrameMeta } from '../vswitch/port.js';
import type { NicState } from './nic-state.js';

/**
 * Saved metas, one per frame offered since the last flush. A burst of tiny segments (a 64 KB
 * LSO send at MSS 1 is 65,535 frames) can offer more than this before the burst ends, so offer()
 * flushes when the ring is full: a held packet's tag always names its own first segment.
 */
const RING = 1024;

/** Where coalesced packets are written (the queue's RxPath). */
export interface RscWriter {
  deliverFrame(frame: Uint8Array, off: number, len: number, meta: PortFrameMeta): boolean;
  deliverFragments(frame: Uint8Array, off: number, len: number, meta: PortFrameMeta, segments: number): boolean;
}

/** Whether the guest asked for RSC and the host offers it (§6.5: NVSP 6.1, rsc_ip_v4 = 2). */
export function rscEnabled(st: NicState): boolean {
  return st.profile.rsc && st.nvspVersion >= 0x60001 && st.offload.raw['rscIpV4'] === NDIS_OFFLOAD_PARAMETERS_RSC_ENABLED;
}

export class RscCoalescer implements GroSink {
  private readonly engine = new GroEngine(this);
  private readonly csum = new Uint32Array(RING);
  private readonly hash = new Uint32Array(RING);
  private readonly vlan = new Uint32Array(RING);
  private readonly flags = new Uint8Array(RING);
  private readonly out = new PortFrameMeta();
  private next = 0;
  /** Frames given to the engine since the last flush (it may hold some). */
  held = 0;

  constructor(private readonly w: RscWriter) {}

  /** One frame for the guest; TCP segments may be held until flush(). */
  offer(frame: Uint8Array, off: number, len: number, meta: PortFrameMeta): void {
    if (this.held >= RING) this.flush(); // the next slot may be a held packet's first segment
    const t = this.next;
    this.next = (t + 1) & (RING - 1);
    this.csum[t] = meta.csumRx;
    this.hash[t] = meta.hash;
    this.vlan[t] = meta.vlanTci;
    this.flags[t] = (meta.hashValid ? 1 : 0) | (meta.hasVlan ? 2 : 0);
    this.held++;
    // A frame the engine passes on untouched goes out during receive() as these very bytes.
    this.cur = meta;
    this.engine.receive(frame, off, len, (meta.csumRx & CSUM_RX.tcpChecksumSucceeded) !== 0, t, vlanKeyOf(meta.hasVlan, meta.vlanTci));
    this.cur = null;
  }

  /** The offered frame's meta while receive() runs (for its view hint, PortFrameMeta.viewOf), else null. */
  private cur: PortFrameMeta | null = null;

  /** End of the burst: every held packet is written. */
  flush(): void {
    if (this.held === 0) return;
    this.held = 0; // before delivering: a full burst flushes the ring, which must not re-enter here
    this.engine.flush();
  }

  /** GroSink: a packet of `segments` segments whose first segment had tag `t`. */
  deliver(frame: Uint8Array, off: number, len: number, segments: number, t: number): void {
    const m = this.out;
    m.clear();
    if (this.cur !== null) m.copyView(this.cur); // checked against the bytes by the writer: a held packet's are others
    m.hash = this.hash[t]!;
    m.hashValid = (this.flags[t]! & 1) !== 0;
    m.vlanTci = this.vlan[t]!;
    m.hasVlan = (this.flags[t]! & 2) !== 0;
    if (segments === 1) {
      m.csumRx = this.csum[t]!;
      this.w.deliverFrame(frame, off, len, m);
      return;
    }
    // GroEngine recomputed the lengths and checksums of the merged packet.
    const v4 = frame[off + 12] === 0x08 && frame[off + 13] === 0x00;
    m.csumRx = CSUM_RX.tcpChecksumSucceeded | (v4 ? CSUM_RX.ipChecksumSucceeded : 0);
    this.w.deliverFragments(frame, off, len, m, segments);
  }
}
