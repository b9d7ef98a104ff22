/**
 * GRO on one queue's receive path (protocol.md §6.5, issue 5 item 5): every received frame goes
 * through a GroEngine (Linux rules, vectors.md §6) before the device's handler; the engine is
 * flushed at the end of each transfer-page packet, so nothing is held across a host burst. On by
 * default, switchable (`ethtool -K gro on|off`). An RSC packet the host already coalesced goes
 * straight up, contiguous or as a fragment list (RX_F_FRAGS): it is not merged again (Linux's GRO
 * would at most append it to a held packet of its flow; reassembling a list to do that would bring
 * back the copy the list exists to avoid). What GRO holds is delivered first, so a segment held
 * from earlier in the burst never arrives after the RSC packet that follows it.
 *
 * Each packet leaves with the metadata (hash, VLAN, checksum PPIs) of its first segment: every
 * frame's meta is copied into a preallocated ring and its index travels through GroEngine as the
 * tag. A merged packet's checksums were verified or recomputed by the engine, so it is marked
 * "TCP checksum succeeded" (plus IPv4 header for IPv4); `fragments` says how many segments it has.
 */
import { GroEngine, vlanKeyOf, type GroSink } from '../../packet/index.js';
import { CSUM_RX } from '../../wire/index.js';
import { newRxMeta, RX_F_CSUM, RX_F_RSC, RX_F_VLAN, type ReceiveHandler, type RxMeta } from './meta.js';

/** Saved metas: more than one transfer-page packet can carry (572 ranges), since GRO holds nothing across one. */
const RING = 1024;

export class GroPath implements GroSink {
  enabled = true;
  /** Packets delivered that carried more than one segment. */
  merged = 0;
  private readonly engine = new GroEngine(this);
  private readonly ring: RxMeta[] = [];
  private next = 0;

  constructor(
    queue: number,
    private readonly up: ReceiveHandler,
  ) {
    for (let i = 0; i < RING; i++) this.ring.push(newRxMeta(queue));
  }

  /** The queue's ReceiveHandler. */
  readonly receive: ReceiveHandler = (u8, off, len, m) => {
    if (!this.enabled) return this.up(u8, off, len, m);
    if ((m.flags & RX_F_RSC) !== 0) {
      this.engine.flush();
      return this.up(u8, off, len, m);
    }
    const tag = this.next;
    this.next = (tag + 1) & (RING - 1);
    const saved = this.ring[tag]!;
    saved.flags = m.flags;
    saved.csum = m.csum;
    saved.vlan = m.vlan;
    saved.hash = m.hash;
    saved.fragments = m.fragments;
    this.engine.receive(u8, off, len, (m.flags & RX_F_CSUM) !== 0 && (m.csum & CSUM_RX.tcpChecksumSucceeded) !== 0, tag, vlanKeyOf((m.flags & RX_F_VLAN) !== 0, m.vlan));
  };

  /** End of a receive batch: deliver every held packet. */
  flush(): void {
    this.engine.flush();
  }

  /** ethtool -K gro on|off; turning it off delivers what is held. */
  setEnabled(on: boolean): void {
    if (!on) this.flush();
    this.enabled = on;
  }

  /** GroSink. */
  deliver(frame: Uint8Array, off: number, len: number, segments: number, tag: number): void {
    const m = this.ring[tag & (RING - 1)]!;
    if (segments > 1) {
      const v4 = len > 14 && frame[off + 12] === 0x08 && frame[off + 13] === 0x00;
      m.flags |= RX_F_CSUM;
      m.csum = CSUM_RX.tcpChecksumSucceeded | (v4 ? CSUM_RX.ipChecksumSucceeded : 0);
      m.fragments = segments;
      this.merged++;
    }
    this.up(frame, off, len, m);
  }
}
