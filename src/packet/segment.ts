/**
 * TCP segmentation offload as the host performs it for an LSOv2 send (protocol.md §6.2,
 * vectors.md §4.7, issue 5 item 2): the guest hands over one TCP super-frame of up to 64 KB (IPv4
 * total length or IPv6 payload length may be 0, the TCP checksum seeded with the pseudo-header)
 * and an MSS; out come MTU-sized segments with
 * - sequence numbers advancing by the bytes before them,
 * - IPv4 ids incrementing from the super-frame's id,
 * - IPv4 total length / IPv6 payload length of each segment, IPv4 header checksum,
 * - TCP checksum with the pseudo-header of each segment's length,
 * - FIN and PSH only on the last segment, CWR only on the first.
 * Headers (Ethernet, 802.1Q, IP with options or extension headers, TCP with options) are copied
 * as they are into every segment.
 */
import { ResourceError, WireError } from '../core/index.js';
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
  TcpView,
} from '../wire/index.js';
import { fillIpv4HeaderChecksum, fillL4Checksum } from './checksum.js';
import { alignGap, copyBytes } from './copy.js';

/** Cuts TCP super-frames into segments. One per queue; holds only its views. */
export class TcpSegmenter {
  private readonly eth = new EthernetView();
  private readonly ip4 = new Ipv4View();
  private readonly ip6 = new Ipv6View();
  private readonly tcp = new TcpView();
  /** Header bytes (Ethernet to the end of TCP options) of the last super-frame segmented. */
  lastHeaderLen = 0;

  /**
   * Segments the super-frame src[off, off+len) with `mss` payload bytes per segment. Segments are
   * written one after another into out from outOff, each after a gap of 0–7 bytes (alignment); segment i starts at offsets[i] and is lengths[i]
   * bytes. Returns the segment count (1 for a payload of at most one MSS, even 0 bytes).
   * Throws WireError for a frame that is not an unfragmented TCP/IP frame or a bad MSS, and
   * ResourceError('LIMIT') when out or the offset arrays are too small.
   */
  segment(
    src: Uint8Array,
    off: number,
    len: number,
    mss: number,
    out: Uint8Array,
    outOff: number,
    offsets: Uint32Array,
    lengths: Uint32Array,
  ): number {
    if (!(mss >= 1 && mss <= 0xfffff)) throw new WireError('MALFORMED', 'LSO MSS must be 1..2^20-1');
    this.bindFrame(src, off, len);
    const ipAt = this.ipAt;
    const l4At = this.l4At;
    const isV6 = this.isV6;
    const tcp = this.tcp;
    const hdrLen = tcp.payloadOffset - off;
    this.lastHeaderLen = hdrLen;
    const payloadLen = tcp.payloadLen;
    const count = payloadLen === 0 ? 1 : Math.ceil(payloadLen / mss);
    if (count > offsets.length || count > lengths.length) throw new ResourceError('LIMIT', 'LSO: more segments than offset slots');
    if (outOff < 0 || outOff + count * (hdrLen + 7) + payloadLen > out.length) throw new ResourceError('LIMIT', 'LSO: output buffer too small');

    const ipRel = ipAt - off;
    const tcpRel = l4At - off;
    const tcpHl = tcp.headerLen;
    const id0 = isV6 ? 0 : this.ip4.id;
    const seq0 = tcp.seq;
    const flags0 = tcp.flags;
    // IPv6 payload length also covers the extension headers between the fixed header and TCP.
    const ipFixed = isV6 ? 40 : 0;
    // The first segment is the largest; its IP length field must hold it (a 20-bit MSS over a
    // frame longer than 64 KiB would otherwise wrap the 16-bit length silently).
    if (tcpRel - ipRel + tcpHl + Math.min(mss, payloadLen) - ipFixed > 0xffff) {
      throw new WireError('MALFORMED', `LSO segment of MSS ${mss} does not fit a 16-bit IP length`);
    }
    let from = tcp.payloadOffset;
    // Each segment's payload sits at the address it had in src mod 8 (a gap of up to 7 bytes
    // before the segment), so every later copy of it into or out of shared memory, and a
    // receiver's GRO merging it back, runs word-wise (copy.ts alignGap).
    const srcBase = src.byteOffset;
    const outBase = out.byteOffset;
    let at = outOff + alignGap(srcBase + from, outBase + outOff + hdrLen);
    for (let i = 0; i < count; i++) {
      const chunk = Math.min(mss, payloadLen - i * mss);
      copyBytes(src, off, out, at, hdrLen);
      copyBytes(src, from, out, at + hdrLen, chunk);
      const ip = at + ipRel;
      const l4 = at + tcpRel;
      const segL4Len = tcpHl + chunk;
      const ipLen = tcpRel - ipRel + segL4Len - ipFixed;
      out[ip + (isV6 ? 4 : 2)] = ipLen >>> 8;
      out[ip + (isV6 ? 5 : 3)] = ipLen & 0xff;
      if (!isV6) {
        const id = (id0 + i) & 0xffff;
        out[ip + 4] = id >>> 8;
        out[ip + 5] = id & 0xff;
        fillIpv4HeaderChecksum(out, ip);
      }
      const seq = (seq0 + i * mss) >>> 0;
      out[l4 + 4] = seq >>> 24;
      out[l4 + 5] = (seq >>> 16) & 0xff;
      out[l4 + 6] = (seq >>> 8) & 0xff;
      out[l4 + 7] = seq & 0xff;
      let flags = flags0;
      if (i !== count - 1) flags &= ~(TCP_FIN | TCP_PSH);
      if (i !== 0) flags &= ~TCP_CWR;
      out[l4 + 13] = flags;
      fillL4Checksum(out, ip, isV6, IPPROTO_TCP, l4, segL4Len);
      offsets[i] = at;
      lengths[i] = hdrLen + chunk;
      at += hdrLen + chunk;
      from += chunk;
      at += alignGap(srcBase + from, outBase + at + hdrLen);
    }
    return count;
  }

  /**
   * Finishes the super-frame frame[off, off+len) in place as ONE segment, for a receiver that
   * takes it whole (host RSC): the IP length field(s), the IPv4 header checksum and the TCP
   * checksum over the real length (whatever seed the sender left); sequence number, id and flags
   * stay. Returns how many `mss` segments it stands for (at least 1). Only for bytes the caller
   * owns (the host's gather scratch, never guest memory). Throws as segment() does.
   */
  finishInPlace(frame: Uint8Array, off: number, len: number, mss: number): number {
    if (!(mss >= 1 && mss <= 0xfffff)) throw new WireError('MALFORMED', 'LSO MSS must be 1..2^20-1');
    this.bindFrame(frame, off, len);
    const tcp = this.tcp;
    this.lastHeaderLen = tcp.payloadOffset - off;
    const ipAt = this.ipAt;
    const l4Len = tcp.headerLen + tcp.payloadLen;
    const ipLen = this.l4At - ipAt + l4Len - (this.isV6 ? 40 : 0);
    if (ipLen > 0xffff) throw new WireError('MALFORMED', `LSO frame of ${ipLen} IP bytes does not fit a 16-bit IP length`);
    frame[ipAt + (this.isV6 ? 4 : 2)] = ipLen >>> 8;
    frame[ipAt + (this.isV6 ? 5 : 3)] = ipLen & 0xff;
    if (!this.isV6) fillIpv4HeaderChecksum(frame, ipAt);
    fillL4Checksum(frame, ipAt, this.isV6, IPPROTO_TCP, this.l4At, l4Len);
    return tcp.payloadLen === 0 ? 1 : Math.ceil(tcp.payloadLen / mss);
  }

  /** Where the IP header and TCP segment of the last frame bound start; whether it is IPv6. */
  private ipAt = 0;
  private l4At = 0;
  private isV6 = false;

  /** Parses an unfragmented TCP/IPv4 or TCP/IPv6 frame and binds `tcp` to its TCP segment; throws WireError otherwise. */
  private bindFrame(src: Uint8Array, off: number, len: number): void {
    let l4Len: number;
    const eth = this.eth.bind(src, off, len);
    if (eth.etherType === ETH_P_IP) {
      const ip = this.ip4.bind(src, eth.payloadOffset, eth.payloadLen, true);
      if (ip.protocol !== IPPROTO_TCP) throw new WireError('UNSUPPORTED', 'LSO of a non-TCP IPv4 packet');
      if (ip.isFragment) throw new WireError('MALFORMED', 'LSO of an IPv4 fragment');
      this.ipAt = ip.at;
      this.l4At = ip.payloadOffset;
      l4Len = ip.payloadLen;
      this.isV6 = false;
    } else if (eth.etherType === ETH_P_IPV6) {
      const ip = this.ip6.bind(src, eth.payloadOffset, eth.payloadLen, true);
      if (ip.hasFragmentHeader) throw new WireError('MALFORMED', 'LSO of an IPv6 fragment');
      if (ip.upperProtocol !== IPPROTO_TCP) throw new WireError('UNSUPPORTED', 'LSO of a non-TCP IPv6 packet');
      this.ipAt = ip.at;
      this.l4At = ip.upperOffset;
      l4Len = ip.upperLen;
      this.isV6 = true;
    } else {
      throw new WireError('UNSUPPORTED', 'LSO of a frame that is neither IPv4 nor IPv6');
    }
    this.tcp.bind(src, this.l4At, l4Len);
  }
}
