/**
 * The guest's transmit offload decision (protocol.md §6.2, §6.6; issue 5 items 1, 2, 4, 7): what
 * the Linux stack and netvsc_xmit do to one frame before it reaches a TX queue, over the frame's
 * own bytes (it is the caller's "skb", so it is edited in place, as Linux edits its skb):
 * - an in-band 802.1Q tag is popped into the IEEE_8021Q_INFO PPI (the frame shrinks by 4);
 * - a GSO request (mss > 0) becomes the LSOv2 PPI: IPv4 tot_len and header checksum zeroed,
 *   IPv6 payload length zeroed, the TCP checksum seeded with the pseudo-header of length 0;
 * - a checksum request (CHECKSUM_PARTIAL) becomes the TCPIP_CHKSUM PPI when the class
 *   (IPv4/IPv6 × TCP/UDP) is in the negotiated mask (the field holds the pseudo-header seed, as
 *   Linux leaves it), and is computed here in software otherwise;
 * - the IPv4 header checksum is always computed here (§6.1: ip_v4_csum is TX_RX_DISABLED);
 * - with more than one queue a transmit hash (txHash, per-class L4 level, §6.6) picks the queue
 *   and travels as the NBL_HASH_VALUE PPI.
 */
import { ConfigError, Counters } from '../../core/index.js';
import { classifyFrame, fillIpv4HeaderChecksum, fillL4Checksum, FlowKey, txHashTo, writePseudoSeed } from '../../packet/index.js';
import { HV_DEFAULT_L4HASH, IPPROTO_TCP, IPPROTO_UDP, packCsumTx, packLsoV2Tx, vlanTciToPpi } from '../../wire/index.js';
import { TX_F_CSUM, TX_F_HASH, TX_F_LSO, TX_F_VLAN, type TxMeta } from './meta.js';
import type { OffloadPlan } from './offload.js';

/** What the stack asks of one frame (skb->ip_summed == CHECKSUM_PARTIAL, skb gso_size). */
export interface TxRequest {
  /** The L4 checksum is to be filled (by the host if it can, else here). */
  readonly csum: boolean;
  /** TCP segment size for a GSO super-frame; 0 = a normal frame. */
  readonly mss: number;
}

export const TX_OFFLOAD_COUNTER_NAMES = ['tx_csum_offloaded', 'tx_csum_software', 'tx_lso_packets', 'tx_vlan_popped', 'tx_offload_refused'] as const;

/** Negotiated TX checksum classes (§6.1 mask bits). */
const MASK_IPV4_TCP = 0x01;
const MASK_IPV4_UDP = 0x02;
const MASK_IPV6_TCP = 0x10;
const MASK_IPV6_UDP = 0x20;
/** HV_*_L4HASH class bits for `ethtool -N rx-flow-hash` (§6.6). */
export const FLOW_HASH_CLASS = { tcp4: 1, tcp6: 2, udp4: 4, udp6: 8 } as const;
export type FlowHashClass = keyof typeof FLOW_HASH_CLASS;

export class TxOffloadPrep {
  readonly counters = new Counters(TX_OFFLOAD_COUNTER_NAMES);
  /** HV_*_L4HASH mask: classes hashed with ports (default all four, §6.6). */
  l4Hash = HV_DEFAULT_L4HASH;
  /** Where prepare() left the frame (a popped VLAN tag moves its start by 4). */
  off = 0;
  len = 0;
  private readonly key = new FlowKey();
  /** txHashTo's slot: a returned u32 hash would be a heap number half the time. */
  private readonly hashOut = new Uint32Array(1);
  /** The 802.1Q TCI popped by the last prepare(), or -1. */
  private poppedTci = -1;

  /** Per-device seed of the address hash (Linux seeds jhash randomly at boot). */
  constructor(readonly seed: number) {}

  /** ethtool -N rx-flow-hash <class> sd|sdfn: hash that class by addresses only or with ports. */
  setFlowHash(cls: FlowHashClass, fields: 'sd' | 'sdfn'): void {
    const bit = FLOW_HASH_CLASS[cls];
    if (bit === undefined) throw new ConfigError('BAD_CONFIG', `rx-flow-hash: unknown class ${String(cls)}`);
    this.l4Hash = fields === 'sdfn' ? this.l4Hash | bit : this.l4Hash & ~bit;
  }

  /**
   * Prepares frame[off, off+len) for sending with `plan` on `queues` queues: fills `meta` and
   * leaves the frame's new bounds in this.off / this.len. Returns false (counted
   * tx_offload_refused) for a GSO request the host cannot take (not TCP, or no LSO for its IP
   * version): the caller must send it unsegmented or segment it itself.
   */
  prepare(frame: Uint8Array, off: number, len: number, req: TxRequest, plan: OffloadPlan, queues: number, meta: TxMeta): boolean {
    meta.flags = 0;
    this.poppedTci = -1;
    if (len >= 18 && frame[off + 12] === 0x81 && frame[off + 13] === 0x00) {
      const tci = (frame[off + 14]! << 8) | frame[off + 15]!;
      meta.vlan = vlanTciToPpi(tci);
      meta.flags |= TX_F_VLAN;
      this.poppedTci = tci;
      frame.copyWithin(off + 4, off, off + 12);
      off += 4;
      len -= 4;
      this.counters.inc('tx_vlan_popped');
    }
    this.off = off;
    this.len = len;
    const k = this.key;
    if (!classifyIp(frame, off, len, k, req.mss > 0)) {
      if (req.mss > 0) return this.refuse();
      return true;
    }
    const v6 = k.ipVersion === 6;
    const ipOff = k.ipOff;
    if (queues > 1) {
      txHashTo(k, this.l4Hash, this.seed, this.hashOut, 0);
      meta.hash = this.hashOut[0]!;
      meta.flags |= TX_F_HASH;
    }
    if (req.mss > 0) {
      if (k.l4Proto !== IPPROTO_TCP || k.l4Off < 0 || !(v6 ? plan.tso6 : plan.tso4)) return this.refuse();
      if (v6) {
        frame[ipOff + 4] = 0;
        frame[ipOff + 5] = 0;
      } else {
        frame[ipOff + 2] = 0;
        frame[ipOff + 3] = 0;
        frame[ipOff + 10] = 0;
        frame[ipOff + 11] = 0;
      }
      writePseudoSeed(frame, ipOff, v6, IPPROTO_TCP, k.l4Off, 0);
      meta.lso = packLsoV2Tx(req.mss, k.l4Off - off, v6);
      meta.flags |= TX_F_LSO;
      this.counters.inc('tx_lso_packets');
      return true;
    }
    if (!v6) fillIpv4HeaderChecksum(frame, ipOff);
    if (!req.csum || k.l4Off < 0 || (k.l4Proto !== IPPROTO_TCP && k.l4Proto !== IPPROTO_UDP)) return true;
    const tcp = k.l4Proto === IPPROTO_TCP;
    const cls = v6 ? (tcp ? MASK_IPV6_TCP : MASK_IPV6_UDP) : tcp ? MASK_IPV4_TCP : MASK_IPV4_UDP;
    if ((plan.txCsumMask & cls) !== 0) {
      writePseudoSeed(frame, ipOff, v6, k.l4Proto, k.l4Off, k.l4Len);
      meta.csum = packCsumTx(!v6, v6, tcp, !tcp, false, k.l4Off - off);
      meta.flags |= TX_F_CSUM;
      this.counters.inc('tx_csum_offloaded');
    } else {
      fillL4Checksum(frame, ipOff, v6, k.l4Proto, k.l4Off, k.l4Len);
      this.counters.inc('tx_csum_software');
    }
    return true;
  }

  /**
   * Puts a popped 802.1Q tag back (the frame was not sent after all), so that the caller can offer
   * the same bytes again; the other edits are idempotent (a prepared frame prepares the same).
   */
  undo(frame: Uint8Array): void {
    if (this.poppedTci < 0) return;
    const off = this.off - 4;
    frame.copyWithin(off, this.off, this.off + 12);
    frame[off + 12] = 0x81;
    frame[off + 13] = 0x00;
    frame[off + 14] = this.poppedTci >>> 8;
    frame[off + 15] = this.poppedTci & 0xff;
    this.poppedTci = -1;
    this.counters.add(this.counters.slot('tx_vlan_popped'), -1);
  }

  private refuse(): false {
    this.counters.inc('tx_offload_refused');
    return false;
  }
}

/**
 * classifyFrame, except that a GSO super-frame's IPv4 header may not describe its size yet: the
 * stack hands it over with its real total length, which is fine; only a zero length (already
 * prepared) is bridged by filling it from the frame length first.
 */
function classifyIp(frame: Uint8Array, off: number, len: number, k: FlowKey, gso: boolean): boolean {
  if (gso && len >= 34 && frame[off + 12] === 0x08 && frame[off + 13] === 0x00 && frame[off + 16] === 0 && frame[off + 17] === 0) {
    const ipLen = Math.min(65535, len - 14);
    frame[off + 16] = ipLen >>> 8;
    frame[off + 17] = ipLen & 0xff;
  }
  return classifyFrame(frame, off, len, k);
}
