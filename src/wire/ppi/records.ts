/** wire.jsonl record codecs for the PPI layer: `rndis_per_packet_info+<value struct>` (rule 4). */
import { dataView, encodeNew } from '../bytes.js';
import { RECORD } from '../layout/value.js';
import type { RecordCodec } from '../records/codec.js';
import { decodePpi, encodePpi, ppiSize } from './codec.js';

const VALUE_STRUCTS = ['ndis_tcp_ip_checksum_info', 'ndis_pkt_8021q_info', 'ndis_tcp_lso_info', 'u32', 'rndis_pktinfo_id'] as const;

export const ppiCodecs: readonly RecordCodec[] = VALUE_STRUCTS.map(
  (v): RecordCodec => ({
    layer: 'ppi',
    message: `rndis_per_packet_info+${v}`,
    decode: (u8, opts) => decodePpi(dataView(u8), 0, u8.length, RECORD, opts.hints)[0],
    encode: (fields) => encodeNew(ppiSize(fields, RECORD), (dv) => encodePpi(fields, dv, 0, RECORD)),
  }),
);
