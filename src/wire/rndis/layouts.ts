/**
 * RNDIS message layouts (protocol.md §5.2). Every message starts with ndis_msg_type and msg_len;
 * the body follows at 8, and every offset inside a body (info_buf_offset, status_buf_offset,
 * data_offset, per_pkt_info_offset) counts from byte 8, not from the message start.
 */
import * as C from '../constants.js';
import { type Layout, layout, u32, u32s } from '../layout/struct.js';

/** Offsets inside RNDIS bodies count from here (the end of ndis_msg_type + msg_len). */
export const RNDIS_HEADER_SIZE = 8;
/** 8-byte header + 36-byte `struct rndis_packet`. */
export const RNDIS_PACKET_HEADER_SIZE = 44;

export type RndisInfo = 'query' | 'set' | 'queryComplete' | 'indicate' | 'packet' | 'none';

export interface RndisBody {
  readonly body: string;
  readonly type: number;
  readonly layout: Layout;
  /** Where the message keeps data located by an offset. */
  readonly info: RndisInfo;
}

const head = [u32('ndis_msg_type', 0), u32('msg_len', 4)];
const b = (body: string, type: number, names: readonly string[], info: RndisInfo = 'none'): RndisBody => ({
  body,
  type,
  layout: layout(`rndis_message/${body}`, 8 + 4 * names.length, [...head, ...u32s(8, ...names)]),
  info,
});

export const RNDIS_BODIES: readonly RndisBody[] = [
  b('rndis_packet', C.RNDIS_MSG_PACKET, ['data_offset', 'data_len', 'oob_data_offset', 'oob_data_len', 'num_oob_data_elements', 'per_pkt_info_offset', 'per_pkt_info_len', 'vc_handle', 'reserved'], 'packet'),
  b('rndis_initialize_request', C.RNDIS_MSG_INIT, ['req_id', 'major_ver', 'minor_ver', 'max_xfer_size']),
  b('rndis_initialize_complete', C.RNDIS_MSG_INIT_C, [
    'req_id',
    'status',
    'major_ver',
    'minor_ver',
    'dev_flags',
    'medium',
    'max_pkt_per_msg',
    'max_xfer_size',
    'pkt_alignment_factor',
    'af_list_offset',
    'af_list_size',
  ]),
  b('rndis_halt_request', C.RNDIS_MSG_HALT, ['req_id']),
  b('rndis_query_request', C.RNDIS_MSG_QUERY, ['req_id', 'oid', 'info_buflen', 'info_buf_offset', 'dev_vc_handle'], 'query'),
  b('rndis_query_complete', C.RNDIS_MSG_QUERY_C, ['req_id', 'status', 'info_buflen', 'info_buf_offset'], 'queryComplete'),
  b('rndis_set_request', C.RNDIS_MSG_SET, ['req_id', 'oid', 'info_buflen', 'info_buf_offset', 'dev_vc_handle'], 'set'),
  b('rndis_set_complete', C.RNDIS_MSG_SET_C, ['req_id', 'status']),
  b('rndis_reset_request', C.RNDIS_MSG_RESET, ['reserved']),
  b('rndis_reset_complete', C.RNDIS_MSG_RESET_C, ['status', 'addressing_reset']),
  b('rndis_indicate_status', C.RNDIS_MSG_INDICATE, ['status', 'status_buflen', 'status_buf_offset'], 'indicate'),
  b('rndis_keepalive_request', C.RNDIS_MSG_KEEPALIVE, ['req_id']),
  b('rndis_keepalive_complete', C.RNDIS_MSG_KEEPALIVE_C, ['req_id', 'status']),
];

export function rndisBodyFor(type: number): RndisBody | undefined {
  return RNDIS_BODIES.find((x) => x.type === type);
}

/** `struct rndis_config_parameter_info`; its string offsets count from its own start (§5.12). */
export const rndisConfigParameterInfo: Layout = layout(
  'rndis_config_parameter_info',
  20,
  u32s(0, 'parameter_name_offset', 'parameter_name_length', 'parameter_type', 'parameter_value_offset', 'parameter_value_length'),
);
