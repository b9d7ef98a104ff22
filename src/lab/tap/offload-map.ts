/**
 * The virtio-net header (what Linux hands a TAP user, io's FrameMeta) mapped to RNDIS per-packet
 * info (the guest driver's TxMeta/RxMeta, protocol.md §5.5, §6.1–6.3) and back, the way a Linux
 * netvsc guest maps its skb state:
 *
 * | virtio-net (TAP)                              | RNDIS PPI (netvsc)                              |
 * | --------------------------------------------- | ----------------------------------------------- |
 * | NEEDS_CSUM, csum_start, csum_offset 16 (TCP)  | TCPIP_CHKSUM tx: is_ipv4/6, tcp, header offset  |
 * | NEEDS_CSUM, csum_offset 6 (UDP)               | TCPIP_CHKSUM tx: is_ipv4/6, udp, header offset  |
 * | NEEDS_CSUM, class the host does not offer     | none: completed here in software                |
 * | gso_type TCPV4/TCPV6, gso_size                | TCP_LARGESEND (LSOv2): mss, header offset, ipv6 |
 * | DATA_VALID                                    | ← TCPIP_CHKSUM rx: tcp/udp succeeded, none failed |
 * | gso_type TCPV4/6 + NEEDS_CSUM (GRO frame)     | ← RSC-coalesced frame (or any TCP frame > MTU)  |
 *
 * Everything works in place on the frame it is given (the TAP ring record on transmit, the
 * receive buffer on receive, both ours until the call returns): no allocation per frame.
 */
import {
  FRAME_F_DATA_VALID,
  FRAME_F_NEEDS_CSUM,
  FRAME_GSO_ECN,
  FRAME_GSO_NONE,
  FRAME_GSO_TCPV4,
  FRAME_GSO_TCPV6,
  clearFrameMeta,
  type FrameMeta,
} from '../../core/index.js';
import { RX_F_CSUM, RX_F_RSC, TX_F_CSUM, TX_F_LSO, type RxMeta, type TxMeta } from '../../guest/index.js';
import { classifyFrame, fillIpv4HeaderChecksum, FlowKey, internetChecksum, writePseudoSeed } from '../../packet/index.js';
import { CSUM_RX, IPPROTO_TCP, IPPROTO_UDP, packCsumTx, packLsoV2Tx } from '../../wire/index.js';
import type { NicOffloads } from '../nic-driver.js';

/** What to do with a frame from the kernel after mapping. */
export const TX_MAP_SEND = 0;
/** A GSO super-frame the NIC cannot take (no LSO negotiated): dropped and counted. */
export const TX_MAP_NO_LSO = 1;
/** Metadata that does not describe a TCP/UDP checksum inside the frame: dropped and counted. */
export const TX_MAP_BAD = 2;

/** Linux's TX checksum class bits (netvsc's txCsumMask, §6.1). */
const CLASS_V4_TCP = 0x01;
const CLASS_V4_UDP = 0x02;
const CLASS_V6_TCP = 0x10;
const CLASS_V6_UDP = 0x20;
/** csum_offset of the checksum field within the TCP and UDP headers. */
const TCP_CSUM_FIELD = 16;
const UDP_CSUM_FIELD = 6;

const RX_GOOD = CSUM_RX.tcpChecksumSucceeded | CSUM_RX.udpChecksumSucceeded;
const RX_BAD = CSUM_RX.tcpChecksumFailed | CSUM_RX.udpChecksumFailed | CSUM_RX.ipChecksumFailed;

/** 4 or 6 from the frame's EtherType (one 802.1Q tag allowed), else 0. */
function ipVersionOf(b: Uint8Array, off: number, len: number): number {
  if (len < 14) return 0;
  let t = (b[off + 12]! << 8) | b[off + 13]!;
  if (t === 0x8100 && len >= 18) t = (b[off + 16]! << 8) | b[off + 17]!;
  return t === 0x0800 ? 4 : t === 0x86dd ? 6 : 0;
}

/**
 * Completes a partial checksum as the kernel defines it (skb_checksum_help): the field at
 * csumStart + csumOffset holds the pseudo-header seed; sum from csumStart to the end and store the
 * complement there. A UDP result of 0 is sent as 0xffff (0 means "no checksum").
 */
export function completePartialChecksum(b: Uint8Array, off: number, len: number, csumStart: number, csumOffset: number): void {
  const at = off + csumStart + csumOffset;
  let c = internetChecksum(b, off + csumStart, len - csumStart);
  if (c === 0 && csumOffset === UDP_CSUM_FIELD) c = 0xffff;
  b[at] = c >>> 8;
  b[at + 1] = c & 0xff;
}

/** A GSO super-frame from the kernel: TX_MAP_SEND when it can go as LSOv2 (TCP, sane metadata, LSO negotiated for its family). */
function gsoVerdict(m: FrameMeta, caps: NicOffloads): number {
  const gso = m.gsoType & ~FRAME_GSO_ECN;
  const v6 = gso === FRAME_GSO_TCPV6;
  if (gso !== FRAME_GSO_TCPV4 && !v6) return TX_MAP_BAD;
  if (m.gsoSize === 0 || (m.flags & FRAME_F_NEEDS_CSUM) === 0 || m.csumOffset !== TCP_CSUM_FIELD) return TX_MAP_BAD;
  return (v6 ? caps.tso6 : caps.tso4) ? TX_MAP_SEND : TX_MAP_NO_LSO;
}

/**
 * Kernel → NIC: fills `out` from the vnet metadata. Partial checksums the host offers become the
 * checksum PPI; others are completed here. GSO super-frames become LSOv2 (the TAP is opened with
 * TSO only when the NIC negotiated it, so NO_LSO means the NIC lost LSO across a re-attach).
 */
export function vnetToTxMeta(b: Uint8Array, off: number, len: number, m: FrameMeta, caps: NicOffloads, out: TxMeta): number {
  out.flags = 0;
  if ((m.gsoType & ~FRAME_GSO_ECN) !== FRAME_GSO_NONE) {
    const r = gsoVerdict(m, caps);
    if (r !== TX_MAP_SEND) return r;
    out.flags = TX_F_LSO;
    out.lso = packLsoV2Tx(m.gsoSize, m.csumStart, (m.gsoType & ~FRAME_GSO_ECN) === FRAME_GSO_TCPV6);
    return TX_MAP_SEND;
  }
  if ((m.flags & FRAME_F_NEEDS_CSUM) === 0) return TX_MAP_SEND;
  if (m.csumStart + m.csumOffset + 2 > len) return TX_MAP_BAD;
  const ver = ipVersionOf(b, off, len);
  const tcp = m.csumOffset === TCP_CSUM_FIELD;
  const udp = m.csumOffset === UDP_CSUM_FIELD;
  const cls = ver === 4 ? (tcp ? CLASS_V4_TCP : udp ? CLASS_V4_UDP : 0) : ver === 6 ? (tcp ? CLASS_V6_TCP : udp ? CLASS_V6_UDP : 0) : 0;
  if (cls !== 0 && (caps.txCsumMask & cls) !== 0) {
    out.flags = TX_F_CSUM;
    out.csum = packCsumTx(ver === 4, ver === 6, tcp, udp, false, m.csumStart);
    return TX_MAP_SEND;
  }
  // ICMP, SCTP, or a class this host profile does not offer (WS2012: no UDP): do it here.
  completePartialChecksum(b, off, len, m.csumStart, m.csumOffset);
  return TX_MAP_SEND;
}

/** The stack's transmit request (NetvscDevice.xmitInPlace), mutable so one can be reused. */
export interface TxRequestOut {
  csum: boolean;
  mss: number;
}

/**
 * Kernel → NIC for the in-place path (the device's TxOffloadPrep then makes the PPIs, as for any
 * stack frame): a partial checksum of the frame's own TCP/UDP header asks for the checksum (offloaded
 * or done in software by the driver per the host's classes), a GSO super-frame for LSO with the kernel's segment size;
 * another partial checksum (ICMP, an inner header of a tunnel, …) is completed here. Same verdicts as vnetToTxMeta.
 */
export function vnetToTxRequest(b: Uint8Array, off: number, len: number, m: FrameMeta, caps: NicOffloads, out: TxRequestOut): number {
  out.csum = false;
  out.mss = 0;
  if ((m.gsoType & ~FRAME_GSO_ECN) !== FRAME_GSO_NONE) {
    const r = gsoVerdict(m, caps);
    if (r !== TX_MAP_SEND) return r;
    out.csum = true;
    out.mss = m.gsoSize;
    return TX_MAP_SEND;
  }
  if ((m.flags & FRAME_F_NEEDS_CSUM) === 0) return TX_MAP_SEND;
  if (m.csumStart + m.csumOffset + 2 > len) return TX_MAP_BAD;
  // The driver checksums the frame's first TCP/UDP header (it finds it itself), so ask only when that
  // is where the kernel's csum_start points: an inner header (GRE, VXLAN, IP-in-IP) is completed here.
  const k = reqKey;
  const l4 = classifyFrame(b, off, len, k) && !k.isFragment && k.l4Off >= 0 ? k.l4Off - off : -1;
  const proto = m.csumOffset === TCP_CSUM_FIELD ? IPPROTO_TCP : m.csumOffset === UDP_CSUM_FIELD ? IPPROTO_UDP : -1;
  if (proto >= 0 && l4 === m.csumStart && k.l4Proto === proto) out.csum = true;
  else completePartialChecksum(b, off, len, m.csumStart, m.csumOffset);
  return TX_MAP_SEND;
}

/** vnetToTxRequest's scratch (one per worker: the TAP bridge runs on one thread). */
const reqKey = new FlowKey();

/**
 * NIC → kernel: fills `m` from the receive PPIs. A TCP frame larger than the MTU (host RSC) goes
 * up as a GSO super-frame with a partial checksum (what GRO hands the stack), so the kernel can
 * re-segment it if it forwards it; other frames the host verified carry DATA_VALID.
 * `key` is scratch. Returns true when the frame became a GSO super-frame. For a fragment list
 * (RX_F_FRAGS) `headLen` is the first fragment's length: the headers are read and edited there only.
 */
export function rxMetaToVnet(b: Uint8Array, off: number, len: number, rx: RxMeta, mtu: number, key: FlowKey, m: FrameMeta, headLen = len): boolean {
  clearFrameMeta(m);
  const big = (rx.flags & RX_F_RSC) !== 0 || len > mtu + 18;
  // A list's first fragment holds the headers; its IP length is the first segment's or (host
  // dependent) the whole packet's, so the classification may need the whole length, never more headers.
  const classified = big && (classifyFrame(b, off, headLen, key) || (headLen < len && classifyFrame(b, off, len, key) && key.l4Off + 20 <= off + headLen));
  if (classified && key.l4Proto === IPPROTO_TCP && key.l4Off >= 0 && !key.isFragment) {
    const v6 = key.ipVersion === 6;
    const l4Len = off + len - key.l4Off;
    // RSC builds one coalesced packet; make the IP length match the bytes we hand over.
    if (v6) {
      const pl = len - (key.ipOff - off) - 40;
      b[key.ipOff + 4] = pl >>> 8;
      b[key.ipOff + 5] = pl & 0xff;
    } else {
      const tl = len - (key.ipOff - off);
      b[key.ipOff + 2] = tl >>> 8;
      b[key.ipOff + 3] = tl & 0xff;
      fillIpv4HeaderChecksum(b, key.ipOff);
    }
    const tcpHdr = (b[key.l4Off + 12]! >>> 4) * 4;
    writePseudoSeed(b, key.ipOff, v6, IPPROTO_TCP, key.l4Off, l4Len);
    m.flags = FRAME_F_NEEDS_CSUM;
    m.csumStart = key.l4Off - off;
    m.csumOffset = TCP_CSUM_FIELD;
    m.gsoType = v6 ? FRAME_GSO_TCPV6 : FRAME_GSO_TCPV4;
    m.hdrLen = key.l4Off - off + tcpHdr;
    // The segments' MSS is not carried by RSC; the link MTU gives what each one held.
    m.gsoSize = Math.max(1, mtu - (key.l4Off - key.ipOff) - tcpHdr);
    return true;
  }
  if ((rx.flags & RX_F_CSUM) !== 0 && (rx.csum & RX_GOOD) !== 0 && (rx.csum & RX_BAD) === 0) m.flags = FRAME_F_DATA_VALID;
  return false;
}
