/**
 * Generic receive offload for TCP on the guest's receive path (issue 5 item 5), following the
 * Linux rules as vectors.md §6.1–6.2 state them:
 * - only TCP over IPv4 without options (not a fragment, valid header checksum) or IPv6 without a
 *   fragment header, with a valid TCP checksum, and with payload, is held or merged;
 * - a segment merges into the held packet of its flow (same Ethernet header, addresses and ports,
 *   and the same VLAN metadata: the caller's `vlanKey`, since a VLAN that travels in the 802.1Q
 *   PPI is not in the frame's bytes; Linux compares vlan_tci likewise) only if: CWR is clear; flags equal ignoring CWR, FIN and PSH; same ack; same TCP header and
 *   option bytes; same IPv4 TTL, TOS and DF (IPv6: same first word and extension headers; hop
 *   limit is not checked); IPv4 ids all incrementing by one or all fixed; payload ≤ the held mss
 *   (the first segment's payload); seq contiguous; and the merged IP length ≤ 65535;
 * - otherwise the held packet is delivered and the segment starts afresh;
 * - after a merge the held header takes FIN and PSH from the segment, and the packet is delivered
 *   when the segment was shorter than mss or carried URG, PSH, RST, SYN or FIN.
 * Choices where the rules leave room (each keeps a flow's packets in order):
 * - a segment without payload (pure ACK, the selftest's FIN terminator) is never merged; it
 *   delivers its flow's held packet first, then itself (vectors.md §6.3 "ack": no coalescing);
 * - a TCP packet that cannot be merged (IPv4 options, a fragment, a bad checksum) likewise
 *   delivers its flow's held packet first.
 * Held packets live in preallocated slots; flush() at the end of each receive batch delivers them.
 * A merged packet is delivered with its IP lengths, IPv4 header checksum and TCP checksum redone.
 */
import {
  ETH_P_IP,
  ETH_P_IPV6,
  EthernetView,
  IPPROTO_TCP,
  Ipv4View,
  Ipv6View,
  TCP_CWR,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  TcpView,
} from '../wire/index.js';
import { fillIpv4HeaderChecksum, foldSum, internetSum, pseudoSumIpv4, pseudoSumIpv6, verifyIpv4HeaderChecksum, verifyL4Checksum } from './checksum.js';
import { copyBytes } from './copy.js';

/** Where GRO hands packets: held ones from its own slots, passed-through ones from the caller's bytes. */
export interface GroSink {
  /**
   * One packet; `segments` is how many received segments it carries; `tag` is the caller's tag
   * of its first segment (receive()'s last argument), so per-frame metadata can follow the packet.
   */
  deliver(frame: Uint8Array, off: number, len: number, segments: number, tag: number): void;
}

/** GroEngine.receive()'s vlanKey for a frame whose 802.1Q PPI value is `tci` (when `tagged`). */
export function vlanKeyOf(tagged: boolean, tci: number): number {
  // 0x10000 | the 16 bits the PPI defines (priority, CFI, id): a small integer, so a tagged frame
  // boxes no number on its way through receive() (2^32 + tci did, one heap number per frame).
  return tagged ? 0x10000 | (tci & 0xffff) : 0;
}

export interface GroOptions {
  /** Flows held at once; the oldest is delivered to make room. Default 8. */
  readonly maxFlows?: number;
  /** Largest IP packet (IP header + TCP header + payload) a merge may build. Default 65535. */
  readonly maxIpLen?: number;
}

const DEFAULTS = { maxFlows: 8, maxIpLen: 65535 } as const;
/** Flags that end a train (vectors.md §6.1 final flush). */
const FINAL_FLAGS = TCP_URG | TCP_PSH | TCP_RST | TCP_SYN | TCP_FIN;
const ID_UNKNOWN = 0;
const ID_INCREMENTING = 1;
const ID_FIXED = 2;

/** One held packet: its bytes and what the merge checks need. Offsets are into `buf`. */
class Held {
  /** The packet's bytes: one of `views`, chosen per packet so it starts at its frame's address mod 8. */
  buf: Uint8Array;
  /** views[k] starts k bytes into one allocation (k = 0..7). */
  private readonly views: Uint8Array[];
  active = false;
  len = 0;
  age = 0;
  isV6 = false;
  ipOff = 0;
  tcpOff = 0;
  hdrLen = 0;
  mss = 0;
  nextSeq = 0;
  segments = 0;
  lastId = 0;
  idMode = ID_UNKNOWN;
  /** The caller's tag of the first segment. */
  tag = 0;
  /** The caller's VLAN key of the flow (receive()'s vlanKey). */
  vlanKey = 0;
  /** One's-complement sum of the held payload, aligned to the payload start (from the segments' checksums). */
  paySum = 0;

  constructor(size: number) {
    const all = new Uint8Array(size + 8);
    this.views = [];
    for (let k = 0; k < 8; k++) this.views.push(all.subarray(k, k + size));
    this.buf = this.views[0]!;
  }

  /**
   * Picks the view whose start has the same address mod 8 as `srcAbs`: a frame that keeps its
   * segments' payloads at their original alignment (the host segmenter and receive path do) is
   * then merged with word-wise copies out of the shared receive buffer (copy.ts alignGap).
   */
  alignTo(srcAbs: number): void {
    this.buf = this.views[srcAbs & 7]!;
  }
}

function same(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ai + i] !== b[bi + i]) return false;
  return true;
}

/**
 * The one's-complement sum of a TCP segment's payload, derived from its checksum, which was
 * verified (by GRO or the host's PPI) before the segment became eligible: pseudo-header + header
 * (with the checksum field) + payload ≡ 0xffff, so payload ≡ 0xffff − (pseudo-header + header).
 */
function payloadSum(frame: Uint8Array, ipAt: number, isV6: boolean, l4At: number, tcpHl: number, payload: number): number {
  const l4Len = tcpHl + payload;
  const pseudo = isV6 ? pseudoSumIpv6(frame, ipAt, IPPROTO_TCP, l4Len) : pseudoSumIpv4(frame, ipAt, IPPROTO_TCP, l4Len);
  return foldSum(0xffff + (~foldSum(pseudo + internetSum(frame, l4At, tcpHl)) & 0xffff));
}

export class GroEngine {
  private readonly slots: Held[];
  private readonly maxIpLen: number;
  private readonly eth = new EthernetView();
  private readonly ip4 = new Ipv4View();
  private readonly ip6 = new Ipv6View();
  private readonly tcp = new TcpView();
  private clock = 0;
  /** The tag and VLAN key of the frame being received. */
  private tag = 0;
  private vlanKey = 0;

  constructor(
    private readonly sink: GroSink,
    options: GroOptions = {},
  ) {
    this.maxIpLen = options.maxIpLen ?? DEFAULTS.maxIpLen;
    const n = options.maxFlows ?? DEFAULTS.maxFlows;
    this.slots = [];
    for (let i = 0; i < n; i++) this.slots.push(new Held(this.maxIpLen + 18));
  }

  /**
   * Offers one received frame. `checksumVerified` is true when the host's checksum PPI already
   * vouched for the TCP checksum (protocol.md §6.3); otherwise GRO verifies it. `vlanKey` stands
   * for VLAN metadata outside the frame (the receive 802.1Q PPI): segments merge only with equal
   * keys. Callers pass 0 for "no tag" and vlanKeyOf() for a tag.
   */
  receive(frame: Uint8Array, off: number, len: number, checksumVerified: boolean, tag = 0, vlanKey = 0): void {
    this.tag = tag;
    this.vlanKey = vlanKey;
    const eth = this.eth;
    if (!eth.tryBind(frame, off, len)) return this.pass(frame, off, len);
    const type = eth.etherType;
    let isV6: boolean;
    let ipAt: number;
    let l4At: number;
    let l4Len: number;
    let eligible: boolean;
    if (type === ETH_P_IP) {
      const ip = this.ip4;
      if (!ip.tryBind(frame, eth.payloadOffset, eth.payloadLen) || ip.protocol !== IPPROTO_TCP || ip.fragmentOffset !== 0) {
        return this.pass(frame, off, len);
      }
      isV6 = false;
      ipAt = ip.at;
      l4At = ip.payloadOffset;
      l4Len = ip.payloadLen;
      eligible = ip.headerLen === 20 && !ip.moreFragments && verifyIpv4HeaderChecksum(frame, ipAt);
    } else if (type === ETH_P_IPV6) {
      const ip = this.ip6;
      if (!ip.tryBind(frame, eth.payloadOffset, eth.payloadLen) || ip.upperProtocol !== IPPROTO_TCP || ip.upperOffset < 0) {
        return this.pass(frame, off, len);
      }
      isV6 = true;
      ipAt = ip.at;
      l4At = ip.upperOffset;
      l4Len = ip.upperLen;
      eligible = !ip.hasFragmentHeader;
    } else {
      return this.pass(frame, off, len);
    }
    const tcp = this.tcp;
    if (!tcp.tryBind(frame, l4At, l4Len)) return this.pass(frame, off, len);
    const held = this.find(frame, off, eth.headerLen, isV6, ipAt, l4At);
    const payload = tcp.payloadLen;
    // A packet bigger than a slot (an IPv6 jumbo-length packet, a small maxIpLen) is passed, not held
    // truncated: Buffer.copy would clip it silently to the slot.
    if (tcp.payloadOffset + payload - ipAt > this.maxIpLen) eligible = false;
    if (eligible && payload > 0 && !checksumVerified) eligible = verifyL4Checksum(frame, ipAt, isV6, IPPROTO_TCP, l4At, l4Len);
    if (!eligible || payload === 0) {
      if (held) this.deliver(held);
      return this.pass(frame, off, len);
    }
    if (held) {
      if (this.canMerge(held, frame, ipAt, isV6, l4At, payload)) {
        this.merge(held, frame, isV6, ipAt, l4At, tcp.payloadOffset, payload);
        if (payload < held.mss || (tcp.flags & FINAL_FLAGS) !== 0) this.deliver(held);
        return;
      }
      this.deliver(held);
    }
    if ((tcp.flags & FINAL_FLAGS) !== 0) return this.pass(frame, off, len);
    this.hold(frame, off, isV6, ipAt - off, l4At - off, tcp.headerLen, payload);
  }

  /** Delivers every held packet, oldest first. Call at the end of each receive batch. */
  flush(): void {
    for (;;) {
      let oldest: Held | undefined;
      for (let i = 0; i < this.slots.length; i++) {
        const h = this.slots[i]!;
        if (h.active && (!oldest || h.age < oldest.age)) oldest = h;
      }
      if (!oldest) return;
      this.deliver(oldest);
    }
  }

  private pass(frame: Uint8Array, off: number, len: number): void {
    this.sink.deliver(frame, off, len, 1, this.tag);
  }

  /** The held packet of this frame's flow: same VLAN key, L2 header, IP version, addresses and ports. */
  private find(frame: Uint8Array, off: number, l2Len: number, isV6: boolean, ipAt: number, l4At: number): Held | undefined {
    const addrRel = isV6 ? 8 : 12;
    const addrLen = isV6 ? 32 : 8;
    const vlanKey = this.vlanKey;
    for (let i = 0; i < this.slots.length; i++) {
      const h = this.slots[i]!;
      if (!h.active || h.isV6 !== isV6 || h.ipOff !== l2Len || h.vlanKey !== vlanKey) continue;
      const b = h.buf;
      if (!same(b, 0, frame, off, l2Len)) continue;
      if (!same(b, h.ipOff + addrRel, frame, ipAt + addrRel, addrLen)) continue;
      if (!same(b, h.tcpOff, frame, l4At, 4)) continue;
      return h;
    }
    return undefined;
  }

  private canMerge(h: Held, frame: Uint8Array, ipAt: number, isV6: boolean, l4At: number, payload: number): boolean {
    const b = h.buf;
    const tcp = this.tcp;
    const flags = tcp.flags;
    if ((flags & TCP_CWR) !== 0) return false;
    if (((flags ^ b[h.tcpOff + 13]!) & ~(TCP_CWR | TCP_FIN | TCP_PSH) & 0xff) !== 0) return false;
    if (!same(b, h.tcpOff + 8, frame, l4At + 8, 4)) return false; // ack
    const tcpHl = tcp.headerLen;
    if (h.hdrLen - h.tcpOff !== tcpHl || !same(b, h.tcpOff + 20, frame, l4At + 20, tcpHl - 20)) return false;
    if (payload > h.mss) return false;
    if (tcp.seq !== h.nextSeq) return false;
    if (h.len - h.ipOff + payload > this.maxIpLen) return false;
    if (isV6) {
      // Version, traffic class (with ECN) and flow label, then the extension headers byte for byte.
      if (!same(b, h.ipOff, frame, ipAt, 4) || l4At - ipAt !== h.tcpOff - h.ipOff) return false;
      return same(b, h.ipOff + 40, frame, ipAt + 40, l4At - ipAt - 40);
    }
    const ip = this.ip4;
    if (ip.tos !== b[h.ipOff + 1] || ip.ttl !== b[h.ipOff + 8] || ip.dontFragment !== ((b[h.ipOff + 6]! & 0x40) !== 0)) return false;
    const id = ip.id;
    const inc = id === ((h.lastId + 1) & 0xffff);
    const fixed = id === h.lastId;
    if (h.idMode === ID_UNKNOWN) return inc || fixed;
    return h.idMode === ID_INCREMENTING ? inc : fixed;
  }

  private merge(h: Held, frame: Uint8Array, isV6: boolean, ipAt: number, l4At: number, payloadAt: number, payload: number): void {
    let s = payloadSum(frame, ipAt, isV6, l4At, payloadAt - l4At, payload);
    // A payload that starts at an odd offset of the merged payload sums with its bytes swapped (RFC 1071 §2(B)).
    if (((h.len - h.hdrLen) & 1) !== 0) s = ((s << 8) | (s >>> 8)) & 0xffff;
    h.paySum = foldSum(h.paySum + s);
    copyBytes(frame, payloadAt, h.buf, h.len, payload);
    h.len += payload;
    h.nextSeq = (h.nextSeq + payload) >>> 0;
    h.segments++;
    h.buf[h.tcpOff + 13]! |= this.tcp.flags & (TCP_FIN | TCP_PSH);
    if (!isV6) {
      const id = this.ip4.id;
      if (h.idMode === ID_UNKNOWN) h.idMode = id === h.lastId ? ID_FIXED : ID_INCREMENTING;
      h.lastId = id;
    }
  }

  private hold(frame: Uint8Array, off: number, isV6: boolean, ipRel: number, tcpRel: number, tcpHl: number, payload: number): void {
    // A free slot, else the oldest held packet makes room.
    let h = this.slots[0]!;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (!s.active) {
        h = s;
        break;
      }
      if (s.age < h.age) h = s;
    }
    if (h.active) this.deliver(h);
    h.alignTo(frame.byteOffset + off);
    const hdrLen = tcpRel + tcpHl;
    copyBytes(frame, off, h.buf, 0, hdrLen + payload);
    h.active = true;
    h.age = this.clock++;
    h.len = hdrLen + payload;
    h.isV6 = isV6;
    h.ipOff = ipRel;
    h.tcpOff = tcpRel;
    h.hdrLen = hdrLen;
    h.mss = payload;
    h.nextSeq = (this.tcp.seq + payload) >>> 0;
    h.segments = 1;
    h.tag = this.tag;
    h.vlanKey = this.vlanKey;
    h.paySum = payloadSum(frame, off + ipRel, isV6, off + tcpRel, tcpHl, payload);
    h.lastId = isV6 ? 0 : this.ip4.id;
    h.idMode = ID_UNKNOWN;
  }

  private deliver(h: Held): void {
    h.active = false;
    const b = h.buf;
    if (h.segments > 1) {
      const ipLen = h.len - h.ipOff;
      if (h.isV6) {
        b[h.ipOff + 4] = (ipLen - 40) >>> 8;
        b[h.ipOff + 5] = (ipLen - 40) & 0xff;
      } else {
        b[h.ipOff + 2] = ipLen >>> 8;
        b[h.ipOff + 3] = ipLen & 0xff;
        fillIpv4HeaderChecksum(b, h.ipOff);
      }
      // The TCP checksum from the header and the payload sums gathered at merge time: the 64 KB
      // payload is not summed again (each segment's sum comes from its verified checksum).
      const l4Len = h.len - h.tcpOff;
      b[h.tcpOff + 16] = 0;
      b[h.tcpOff + 17] = 0;
      const pseudo = h.isV6 ? pseudoSumIpv6(b, h.ipOff, IPPROTO_TCP, l4Len) : pseudoSumIpv4(b, h.ipOff, IPPROTO_TCP, l4Len);
      const c = ~foldSum(pseudo + internetSum(b, h.tcpOff, h.hdrLen - h.tcpOff) + h.paySum) & 0xffff;
      b[h.tcpOff + 16] = c >>> 8;
      b[h.tcpOff + 17] = c & 0xff;
    }
    this.sink.deliver(b, 0, h.len, h.segments, h.tag);
  }
}
