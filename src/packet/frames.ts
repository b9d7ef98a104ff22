/**
 * Whole-frame builders for the demo, tests and the virtual switch: Ethernet (optionally 802.1Q)
 * + IPv4/IPv6 + UDP/TCP with every checksum filled. They live here, not in wire/net, because
 * wire imports only core and the checksums are packet's. All write into a caller buffer and
 * return the frame length; the FrameSpec is reused across frames.
 */
import {
  ETH_P_IP,
  ETH_P_IPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_HLEN,
  TCP_ACK,
  TCP_HLEN,
  UDP_HLEN,
  writeEthernetHeader,
  writeIpv4Header,
  writeIpv6Header,
  writeTcpHeader,
  writeUdpHeader,
} from '../wire/index.js';
import { fillIpv4HeaderChecksum, fillL4Checksum } from './checksum.js';
import { copyBytes } from './copy.js';

/** Addresses, ports and header fields of the frames to build; mutate and reuse. */
export class FrameSpec {
  dstMac = new Uint8Array(6);
  srcMac = new Uint8Array(6);
  /** 802.1Q TCI, or -1 for an untagged frame. */
  vlanTci = -1;
  /** IPv4 addresses as unsigned 32-bit numbers. */
  src4 = 0;
  dst4 = 0;
  src6 = new Uint8Array(16);
  dst6 = new Uint8Array(16);
  srcPort = 0;
  dstPort = 0;
  ttl = 64;
  tos = 0;
  ipId = 0;
  dontFragment = true;
  seq = 0;
  ack = 0;
  tcpFlags = TCP_ACK;
  window = 65535;
}

function l2(out: Uint8Array, at: number, s: FrameSpec, etherType: number): number {
  return writeEthernetHeader(out, at, s.dstMac, s.srcMac, etherType, s.vlanTci);
}

/** Ethernet + IPv4/IPv6 + UDP or TCP (no options) carrying payload[off, off+len). Returns the frame length. */
function buildFrame(out: Uint8Array, at: number, s: FrameSpec, v6: boolean, proto: number, payload: Uint8Array, off: number, len: number): number {
  const ip = at + l2(out, at, s, v6 ? ETH_P_IPV6 : ETH_P_IP);
  const l4Len = (proto === IPPROTO_TCP ? TCP_HLEN : UDP_HLEN) + len;
  const l4 =
    ip +
    (v6
      ? writeIpv6Header(out, ip, l4Len, proto, s.ttl, s.src6, s.dst6, s.tos)
      : writeIpv4Header(out, ip, IPV4_HLEN + l4Len, s.ipId, s.ttl, proto, s.src4, s.dst4, s.tos, s.dontFragment));
  if (proto === IPPROTO_TCP) writeTcpHeader(out, l4, s.srcPort, s.dstPort, s.seq, s.ack, s.tcpFlags, s.window);
  else writeUdpHeader(out, l4, s.srcPort, s.dstPort, l4Len);
  copyBytes(payload, off, out, l4 + l4Len - len, len);
  if (!v6) fillIpv4HeaderChecksum(out, ip);
  fillL4Checksum(out, ip, v6, proto, l4, l4Len);
  return l4 + l4Len - at;
}

/** Ethernet + IPv4 + UDP carrying payload[off, off+len). Returns the frame length. */
export function buildUdp4Frame(out: Uint8Array, at: number, s: FrameSpec, payload: Uint8Array, off: number, len: number): number {
  return buildFrame(out, at, s, false, IPPROTO_UDP, payload, off, len);
}

/** Ethernet + IPv6 + UDP. Returns the frame length. */
export function buildUdp6Frame(out: Uint8Array, at: number, s: FrameSpec, payload: Uint8Array, off: number, len: number): number {
  return buildFrame(out, at, s, true, IPPROTO_UDP, payload, off, len);
}

/** Ethernet + IPv4 + TCP (no options). Returns the frame length. */
export function buildTcp4Frame(out: Uint8Array, at: number, s: FrameSpec, payload: Uint8Array, off: number, len: number): number {
  return buildFrame(out, at, s, false, IPPROTO_TCP, payload, off, len);
}

/** Ethernet + IPv6 + TCP (no options). Returns the frame length. */
export function buildTcp6Frame(out: Uint8Array, at: number, s: FrameSpec, payload: Uint8Array, off: number, len: number): number {
  return buildFrame(out, at, s, true, IPPROTO_TCP, payload, off, len);
}
