/**
 * Per-packet info (protocol.md §5.5): a 12-byte header {size, type:31 + internal:1, ppi_offset}
 * and a value at ppi_offset from the PPI start. Value bit layouts are LSB-first.
 */
import * as C from '../constants.js';
import { type Bit, type Field, type Layout, layout, u16, u32, u8 } from '../layout/struct.js';

export const PPI_HEADER_SIZE = 12;
/** Every PPI Linux sends: 12-byte header + u32 value. */
export const PPI_SIZE = 16;

export const ppiHeader: Layout = layout('rndis_per_packet_info', PPI_HEADER_SIZE, [
  u32('size', 0),
  { kind: 'bits', name: null, at: 4, bytes: 4, views: [{ name: null, bits: [{ name: 'type', shift: 0, width: 31 }, { name: 'internal', shift: 31, width: 1 }] }], valueKey: null },
  u32('ppi_offset', 8),
]);

const bits = (...spec: ReadonlyArray<readonly [string, number]>): Bit[] => {
  let shift = 0;
  return spec.map(([name, width]) => {
    const b = { name, shift, width };
    shift += width;
    return b;
  });
};

export const CSUM_TX_BITS = bits(['is_ipv4', 1], ['is_ipv6', 1], ['tcp_checksum', 1], ['udp_checksum', 1], ['ip_header_checksum', 1], ['reserved', 11], ['tcp_header_offset', 10]);
export const CSUM_RX_BITS = bits(
  ['tcp_checksum_failed', 1],
  ['udp_checksum_failed', 1],
  ['ip_checksum_failed', 1],
  ['tcp_checksum_succeeded', 1],
  ['udp_checksum_succeeded', 1],
  ['ip_checksum_succeeded', 1],
  ['loopback', 1],
  ['tcp_checksum_value_invalid', 1],
  ['ip_checksum_value_invalid', 1],
);
export const VLAN_BITS = bits(['pri', 3], ['cfi', 1], ['vlanid', 12], ['reserved', 16]);
export const LSO_V2_TX_BITS = bits(['mss', 20], ['tcp_header_offset', 10], ['type', 1], ['ip_version', 1]);
export const LSO_V1_TX_BITS = bits(['mss', 20], ['tcp_header_offset', 10], ['type', 1], ['reserved2', 1]);
export const LSO_V1_TX_COMPLETE_BITS = bits(['tcp_payload', 30], ['type', 1], ['reserved2', 1]);
export const LSO_V2_TX_COMPLETE_BITS = bits(['reserved', 30], ['type', 1], ['reserved2', 1]);

/**
 * `ndis_tcp_ip_checksum_info`: the same u32 read two ways. Without a hint the transmit view is
 * chosen when a transmit-only bit (5..25) is set, else the receive view.
 */
export const csumInfo: Field = {
  kind: 'bits',
  name: 'csum_info',
  at: 0,
  bytes: 4,
  views: [
    { name: 'transmit', bits: CSUM_TX_BITS },
    { name: 'receive', bits: CSUM_RX_BITS },
  ],
  valueKey: 'value',
  choose: (v) => (v >>> 9 !== 0 ? 0 : 1),
};

export const vlanInfo: Field = { kind: 'bits', name: 'vlan', at: 0, bytes: 4, views: [{ name: null, bits: VLAN_BITS }], valueKey: 'value' };

/** `ndis_tcp_lso_info`: bit 30 tells v2 (1) from v1 (0); v2 with no mss/offset is the completion form. */
export const lsoInfo: Field = {
  kind: 'bits',
  name: 'lso_info',
  at: 0,
  bytes: 4,
  views: [
    { name: 'lso_v2_transmit', bits: LSO_V2_TX_BITS },
    { name: 'lso_v2_transmit_complete', bits: LSO_V2_TX_COMPLETE_BITS },
    { name: 'lso_v1_transmit', bits: LSO_V1_TX_BITS },
    { name: 'lso_v1_transmit_complete', bits: LSO_V1_TX_COMPLETE_BITS },
  ],
  valueKey: 'value',
  choose: (v) => (v & (1 << 30) ? ((v & 0x3fffffff) === 0 ? 1 : 0) : 2),
};

/** `rndis_pktinfo_id` (internal type 1, RSC fragments, §5.6). */
export const pktinfoId: Layout = layout('rndis_pktinfo_id', 4, [u8('ver', 0), u8('flag', 1), u16('pkt_id', 2)]);

/** Which payload a PPI carries, from its type and internal bit (§5.5). */
export type PpiPayload = 'csum_info' | 'vlan' | 'lso_info' | 'hash_info' | 'pktinfo_id' | 'payload';

export function ppiPayloadOf(type: number, internal: number): PpiPayload {
  if (internal === 1) return type === C.RNDIS_PKTINFO_ID ? 'pktinfo_id' : 'payload';
  switch (type) {
    case C.TCPIP_CHKSUM_PKTINFO:
      return 'csum_info';
    case C.IEEE_8021Q_INFO:
      return 'vlan';
    case C.TCP_LARGESEND_PKTINFO:
      return 'lso_info';
    case C.NBL_HASH_VALUE:
      return 'hash_info';
    default:
      return 'payload';
  }
}
