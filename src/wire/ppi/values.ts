/**
 * Pack and unpack the u32 PPI values (protocol.md §5.5) without allocating: plain numbers in,
 * plain numbers out. Bits are LSB-first.
 */
/** Checksum PPI, transmit form: is_ipv4 bit 0, is_ipv6 1, tcp 2, udp 3, ip header 4, tcp_header_offset 16..25. */
export function packCsumTx(isIpv4: boolean, isIpv6: boolean, tcp: boolean, udp: boolean, ipHeader: boolean, tcpHeaderOffset: number): number {
  return ((+isIpv4 | (+isIpv6 << 1) | (+tcp << 2) | (+udp << 3) | (+ipHeader << 4) | ((tcpHeaderOffset & 0x3ff) << 16)) >>> 0);
}
export const csumTxTcpHeaderOffset = (v: number): number => (v >>> 16) & 0x3ff;

/** Checksum PPI, receive form (bit numbers). */
export const CSUM_RX = Object.freeze({
  tcpChecksumFailed: 1 << 0,
  udpChecksumFailed: 1 << 1,
  ipChecksumFailed: 1 << 2,
  tcpChecksumSucceeded: 1 << 3,
  udpChecksumSucceeded: 1 << 4,
  ipChecksumSucceeded: 1 << 5,
  loopback: 1 << 6,
  tcpChecksumValueInvalid: 1 << 7,
  ipChecksumValueInvalid: 1 << 8,
} as const);

/** 802.1Q PPI: pri 0..2, cfi 3, vlanid 4..15. */
export function packVlan(pri: number, cfi: number, vlanId: number): number {
  return ((pri & 7) | ((cfi & 1) << 3) | ((vlanId & 0xfff) << 4)) >>> 0;
}
export const vlanPri = (v: number): number => v & 7;
export const vlanCfi = (v: number): number => (v >>> 3) & 1;
export const vlanId = (v: number): number => (v >>> 4) & 0xfff;
/** The 802.1Q PPI value as the tag's TCI on the wire (priority bits 13-15, DEI bit 12, id bits 0-11). */
export const vlanPpiToTci = (v: number): number => (vlanPri(v) << 13) | (vlanCfi(v) << 12) | vlanId(v);
/** The inverse: a tag's TCI from the wire as the 802.1Q PPI value. */
export const vlanTciToPpi = (tci: number): number => packVlan(tci >>> 13, (tci >>> 12) & 1, tci & 0xfff);

/** LSOv2 transmit PPI: mss 0..19, tcp_header_offset 20..29, type 30 (=1), ip_version 31 (1 = IPv6). */
export function packLsoV2Tx(mss: number, tcpHeaderOffset: number, ipv6: boolean): number {
  return ((mss & 0xfffff) | ((tcpHeaderOffset & 0x3ff) << 20) | (1 << 30) | (+ipv6 << 31)) >>> 0;
}
export const lsoMss = (v: number): number => v & 0xfffff;
export const lsoTcpHeaderOffset = (v: number): number => (v >>> 20) & 0x3ff;
export const lsoType = (v: number): number => (v >>> 30) & 1;
export const lsoIpv6 = (v: number): boolean => v >>> 31 === 1;

/** RNDIS_PKTINFO_ID value: byte 0 version, byte 1 flags, bytes 2..3 pkt_id (§5.6). */
export function packPktinfoId(ver: number, flag: number, pktId: number): number {
  return ((ver & 0xff) | ((flag & 0xff) << 8) | ((pktId & 0xffff) << 16)) >>> 0;
}
export const pktinfoVer = (v: number): number => v & 0xff;
export const pktinfoFlag = (v: number): number => (v >>> 8) & 0xff;
export const pktinfoPktId = (v: number): number => v >>> 16;
