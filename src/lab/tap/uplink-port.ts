/**
 * The switch's uplink (issue 7 item 2): an external port backed by a Linux TAP, inside the host
 * worker. Frames the kernel writes to the TAP enter the switch like any port's; frames the switch
 * delivers here go to the kernel. Like a Hyper-V external port it is promiscuous (it takes every
 * frame the switch floods or has learned behind it). The TAP is opened without offloads, so the
 * kernel hands us finished frames and the switch delivers finished frames (segments, never
 * super-frames: takesSuperFrames is not set). No allocation per frame; the TAP's RX worker rings
 * the host's doorbell, so the host loop sleeps on one address.
 *
 * 802.1Q: the wire of an external port on a trunk carries tags. A frame the switch delivers with
 * meta.hasVlan goes to the kernel with its tag inserted (the TAP port writes it after the MACs);
 * a frame the kernel writes with TPID 0x8100 enters the switch untagged with the tag in the meta
 * (the switch then applies the port's PortConfig.vlan membership, as for any port).
 */
import { clearFrameMeta, newFrameMeta, type FrameMeta, type FramePort } from '../../core/index.js';
import { PortFrameMeta, type SwitchPort, type SwitchPortHandle } from '../../host/index.js';
import type { Pollable } from '../../vmbus/index.js';
import { ETH_P_8021Q, NDIS_PACKET_TYPE_PROMISCUOUS, VLAN_ETH_HLEN, vlanPpiToTci, vlanTciToPpi } from '../../wire/index.js';

/** A FramePort that can insert an 802.1Q tag on write (io's TapPort): TCI as on the wire, 0 = no tag. */
export interface TaggingFramePort extends FramePort {
  tryWrite(bytes: Uint8Array, off: number, len: number, meta: FrameMeta, tci?: number): boolean;
}

/** Ethernet: MAC addresses, then the EtherType (or the 802.1Q TPID) at byte 12; the tag's bytes (TPID + TCI). */
const MACS = 12;
const TAG = 4;

export interface UplinkCounters {
  /** Frames from the kernel sent into the switch. */
  rx_frames: number;
  /** Frames the switch delivered to the kernel. */
  tx_frames: number;
  /** Frames the TAP ring had no room for (the switch counts them as tx_dropped too). */
  tx_ring_full: number;
  /** Frames from the kernel with TPID 0x8100 but too short for the tag and an EtherType (< 18 bytes): dropped. */
  rx_bad_vlan: number;
  /** Frames from the kernel whose 802.1Q tag was taken into the meta (rx_frames counts them too). */
  rx_vlan_tagged: number;
  /** Frames delivered to the kernel with an 802.1Q tag inserted (tx_frames counts them too). */
  tx_vlan_tagged: number;
}

export class UplinkPort implements SwitchPort, Pollable {
  readonly packetFilter = NDIS_PACKET_TYPE_PROMISCUOUS;
  /** An external port has no MAC of its own on the switch; the promiscuous filter ignores it. */
  readonly macNumber = -1;
  readonly counters: UplinkCounters = { rx_frames: 0, tx_frames: 0, tx_ring_full: 0, rx_bad_vlan: 0, rx_vlan_tagged: 0, tx_vlan_tagged: 0 };
  /** Set once the port is on the switch. */
  handle: SwitchPortHandle | null = null;
  private readonly meta = new PortFrameMeta();
  private readonly toKernel: FrameMeta = newFrameMeta();
  private readonly fromKernel = (b: Uint8Array, off: number, len: number): void => {
    const m = this.meta;
    m.clear();
    if (len >= MACS + 2 && ((b[off + MACS]! << 8) | b[off + MACS + 1]!) === ETH_P_8021Q) {
      if (len < VLAN_ETH_HLEN) {
        this.counters.rx_bad_vlan++;
        return;
      }
      const tci = (b[off + MACS + 2]! << 8) | b[off + MACS + 3]!;
      m.hasVlan = true; // also for a priority-only tag (VID 0): its priority travels in the PPI value
      m.vlanTci = vlanTciToPpi(tci);
      // The frame is ours until the handler returns (our read buffer, or the RX ring's slot before
      // release): the MACs move up over the tag in place, so the switch sees an untagged frame.
      b.copyWithin(off + TAG, off, off + MACS);
      off += TAG;
      len -= TAG;
      this.counters.rx_vlan_tagged++;
    }
    this.counters.rx_frames++;
    this.handle?.forward(b, off, len, m);
  };

  constructor(
    readonly name: string,
    private readonly port: TaggingFramePort,
    private readonly budget = 64,
  ) {
    clearFrameMeta(this.toKernel);
  }

  deliver(bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta): boolean {
    // The switch sets hasVlan only for a trunk port and a VLAN other than 0, so the TCI is never 0 here.
    const tci = meta.hasVlan ? vlanPpiToTci(meta.vlanTci) : 0;
    if (!this.port.tryWrite(bytes, off, len, this.toKernel, tci)) {
      this.counters.tx_ring_full++;
      return false;
    }
    this.counters.tx_frames++;
    if (tci !== 0) this.counters.tx_vlan_tagged++;
    return true;
  }

  poll(): number {
    return this.port.poll(this.fromKernel, this.budget);
  }

  idle(): number {
    return 0;
  }
}
