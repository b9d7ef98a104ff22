/**
 * Flow classification for receive-side scaling and transmit queue selection.
 *
 * classifyFrame() never throws: a data path that meets a frame it cannot parse treats it as
 * unhashable (vectors.md §1.7: "if the NIC cannot interpret a packet, it must not compute a
 * hash"), it does not drop or crash on it.
 */
import {
  ETH_P_IP,
  ETH_P_IPV6,
  EthernetView,
  IPPROTO_TCP,
  IPPROTO_UDP,
  Ipv4View,
  Ipv6View,
  TcpView,
  UdpView,
} from '../wire/index.js';

/** A classified frame. One per queue, refilled per frame; offsets index `frame`. */
export class FlowKey {
  frame: Uint8Array = new Uint8Array(0);
  /** 802.1Q VLAN id, or -1. */
  vlanId = -1;
  etherType = 0;
  /** 4, 6, or 0 when the frame is not IP (or its IP header does not parse). */
  ipVersion: 0 | 4 | 6 = 0;
  /** Absolute offset of the IP header, or -1. */
  ipOff = -1;
  /** IP protocol / IPv6 upper-layer next header, or -1. */
  l4Proto = -1;
  /** Absolute offset of a TCP/UDP header whose ports can be read, or -1. */
  l4Off = -1;
  /** Length of the L4 segment from l4Off (header and data), or 0. */
  l4Len = 0;
  /** An IPv4 fragment (MF or offset ≠ 0) or an IPv6 packet with a non-atomic fragment header. */
  isFragment = false;
  srcPort = 0;
  dstPort = 0;
}

const eth = new EthernetView();
const ip4 = new Ipv4View();
const ip6 = new Ipv6View();
const tcp = new TcpView();
const udp = new UdpView();

function ports(key: FlowKey, frame: Uint8Array, at: number, len: number): void {
  const ok = key.l4Proto === IPPROTO_TCP ? tcp.tryBind(frame, at, len) : key.l4Proto === IPPROTO_UDP ? udp.tryBind(frame, at, len) : false;
  if (!ok) return;
  key.l4Off = at;
  key.l4Len = len;
  key.srcPort = (frame[at]! << 8) | frame[at + 1]!;
  key.dstPort = (frame[at + 2]! << 8) | frame[at + 3]!;
}

/**
 * Fills `key` from the Ethernet frame frame[off, off+len). Returns true when the frame is IPv4
 * or IPv6 with a valid header; ports are filled only for an unfragmented TCP or UDP packet whose
 * L4 header is whole.
 */
export function classifyFrame(frame: Uint8Array, off: number, len: number, key: FlowKey): boolean {
  key.frame = frame;
  key.vlanId = -1;
  key.etherType = 0;
  key.ipVersion = 0;
  key.ipOff = -1;
  key.l4Proto = -1;
  key.l4Off = -1;
  key.l4Len = 0;
  key.isFragment = false;
  key.srcPort = 0;
  key.dstPort = 0;
  if (!eth.tryBind(frame, off, len)) return false;
  key.vlanId = eth.vlanId;
  key.etherType = eth.etherType;
  const at = eth.payloadOffset;
  const rest = eth.payloadLen;
  if (key.etherType === ETH_P_IP) {
    if (!ip4.tryBind(frame, at, rest)) return false;
    key.ipVersion = 4;
    key.ipOff = at;
    key.l4Proto = ip4.protocol;
    key.isFragment = ip4.isFragment;
    if (!key.isFragment) ports(key, frame, ip4.payloadOffset, ip4.payloadLen);
    return true;
  }
  if (key.etherType === ETH_P_IPV6) {
    if (!ip6.tryBind(frame, at, rest)) return false;
    key.ipVersion = 6;
    key.ipOff = at;
    key.l4Proto = ip6.upperProtocol;
    key.isFragment = ip6.isFragment;
    if (!key.isFragment && ip6.upperOffset >= 0) ports(key, frame, ip6.upperOffset, ip6.upperLen);
    return true;
  }
  return false;
}
