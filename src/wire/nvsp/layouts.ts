/**
 * NVSP message layouts (protocol.md §3.4). `struct nvsp_message` is a 4-byte header (msg_type)
 * and a union; every layout here is the whole message with offsets from its start, so msg_type
 * sits at 0 and the union member's fields from 4. The fixed message is 40 bytes
 * (sizeof(struct nvsp_message)); lists that run past it make the message longer.
 */
import * as C from '../constants.js';
import { type Field, type Layout, fieldSize, layout, struct, u16, u32, u32s, u64, u8 } from '../layout/struct.js';

/** Bytes every NVSP message occupies at least: sizeof(struct nvsp_message). */
export const NVSP_MESSAGE_SIZE = 40;
/** A receive completion (type 108 + status) is sent with only its first 8 bytes (§2.8). */
export const NVSP_RECV_COMPLETION_SIZE = 8;

const msgType = u32('msg_type', 0);
const m = (name: string, fields: readonly Field[]): Layout => layout(`nvsp_message/${name}`, NVSP_MESSAGE_SIZE, [msgType, ...fields]);

/** `struct nvsp_2_vsc_capability`: a u64 of flag bits (§3.5), shown as bits plus `data`. */
const capability: Field = {
  kind: 'bits',
  name: 'capability',
  at: 12,
  bytes: 8,
  views: [
    {
      name: null,
      bits: ['vmq', 'chimney', 'sriov', 'ieee8021q', 'correlation_id', 'teaming', 'vsubnetid', 'rsc'].map((name, shift) => ({ name, shift, width: 1 })),
    },
  ],
  valueKey: 'data',
};

export const grpAffinity: Layout = layout('grp_affinity', 16, [u64('mask', 0), u16('grp', 8), { kind: 'u16[]', name: 'reserved', at: 10, count: 3 }]);

export const recvBufSection: Layout = layout('nvsp_1_receive_buffer_section', 16, u32s(0, 'offset', 'sub_alloc_size', 'num_sub_allocs', 'end_offset'));

export const pdBuf: Layout = layout('nvsp_6_pd_buf', 8, [
  u32('region_offset', 0),
  u16('region_id', 4),
  { kind: 'bits', name: null, at: 6, bytes: 2, views: [{ name: null, bits: [{ name: 'is_partial', shift: 0, width: 1 }, { name: 'reserved', shift: 1, width: 15 }] }], valueKey: null },
]);

/** What follows the fixed part of a body, if anything. */
export type NvspTail =
  | { readonly kind: 'none' }
  /** `sections`: num_sections × 16 bytes at 12 (type 102). */
  | { readonly kind: 'sections' }
  /** `tx_table`: count u32 at `offset` bytes from the message start (type 134, §3.9). */
  | { readonly kind: 'txTable' };

export interface NvspBody {
  /** Body struct name as wire.jsonl spells it after `nvsp_message/`. */
  readonly body: string;
  readonly type: number;
  /** For 133 and 135 the same type carries a request and a completion. */
  readonly completion: boolean;
  /** For 135: the PD API op paired with the union member. */
  readonly op?: number;
  readonly layout: Layout;
  readonly tail: NvspTail;
}

const NONE: NvspTail = { kind: 'none' };

function body(name: string, type: number, fields: readonly Field[], completion = false, tail: NvspTail = NONE): NvspBody {
  return { body: name, type, completion, layout: m(name, fields), tail };
}

/** PD API request members sit at offset 8, completion members at 12 (after op and status). */
function pd(member: string, op: number, completion: boolean, fields: readonly Field[]): NvspBody {
  const name = `${completion ? 'nvsp_6_pd_api_comp' : 'nvsp_6_pd_api_req'}.${member}`;
  const head = completion ? [u32('op', 4), u32('status', 8)] : [u32('op', 4)];
  const at = completion ? 12 : 8;
  const size = Math.max(...fields.map((f) => f.at + fieldSize(f)));
  return { body: name, type: C.NVSP_MSG6_TYPE_PD_API, completion, op, layout: m(name, [...head, struct(member, at, layout(member, size, fields))]), tail: NONE };
}

export const NVSP_BODIES: readonly NvspBody[] = [
  body('nvsp_message_init', C.NVSP_MSG_TYPE_INIT, u32s(4, 'min_protocol_ver', 'max_protocol_ver')),
  body('nvsp_message_init_complete', C.NVSP_MSG_TYPE_INIT_COMPLETE, u32s(4, 'negotiated_protocol_ver', 'max_mdl_chain_len', 'status'), true),
  body('nvsp_1_message_send_ndis_version', C.NVSP_MSG1_TYPE_SEND_NDIS_VER, u32s(4, 'ndis_major_ver', 'ndis_minor_ver')),
  body('nvsp_1_message_send_receive_buffer', C.NVSP_MSG1_TYPE_SEND_RECV_BUF, [u32('gpadl_handle', 4), u16('id', 8)]),
  body('nvsp_1_message_send_receive_buffer_complete', C.NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE, u32s(4, 'status', 'num_sections'), true, { kind: 'sections' }),
  body('nvsp_1_message_revoke_receive_buffer', C.NVSP_MSG1_TYPE_REVOKE_RECV_BUF, [u16('id', 4)]),
  body('nvsp_1_message_send_send_buffer', C.NVSP_MSG1_TYPE_SEND_SEND_BUF, [u32('gpadl_handle', 4), u16('id', 8)]),
  body('nvsp_1_message_send_send_buffer_complete', C.NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE, u32s(4, 'status', 'section_size'), true),
  body('nvsp_1_message_revoke_send_buffer', C.NVSP_MSG1_TYPE_REVOKE_SEND_BUF, [u16('id', 4)]),
  body('nvsp_1_message_send_rndis_packet', C.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, u32s(4, 'channel_type', 'send_buf_section_index', 'send_buf_section_size')),
  body('nvsp_1_message_send_rndis_packet_complete', C.NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, [u32('status', 4)], true),
  body('nvsp_2_alloc_rxbuf', C.NVSP_MSG2_TYPE_ALLOC_RXBUF, u32s(4, 'alloc_id', 'len')),
  body('nvsp_2_alloc_rxbuf_comp', C.NVSP_MSG2_TYPE_ALLOC_RXBUF_COMP, [...u32s(4, 'status', 'alloc_id', 'gpadl_handle'), u64('recv_buf_id', 16)], true),
  body('nvsp_2_free_rxbuf', C.NVSP_MSG2_TYPE_FREE_RXBUF, [u64('recv_buf_id', 4)]),
  body('nvsp_2_send_ndis_config', C.NVSP_MSG2_TYPE_SEND_NDIS_CONFIG, [u32('mtu', 4), u32('reserved', 8), capability]),
  body('nvsp_4_send_vf_association', C.NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION, u32s(4, 'allocated', 'serial')),
  body('nvsp_4_sw_datapath', C.NVSP_MSG4_TYPE_SWITCH_DATA_PATH, [u32('active_datapath', 4)]),
  body('nvsp_5_subchannel_request', C.NVSP_MSG5_TYPE_SUBCHANNEL, u32s(4, 'op', 'num_subchannels')),
  body('nvsp_5_subchannel_complete', C.NVSP_MSG5_TYPE_SUBCHANNEL, u32s(4, 'status', 'num_subchannels'), true),
  body('nvsp_5_send_indirect_table', C.NVSP_MSG5_TYPE_SEND_INDIRECTION_TABLE, u32s(4, 'count', 'offset'), false, { kind: 'txTable' }),
  pd('config', C.PD_API_OP_CONFIG, false, [u64('mmio_pa', 0), u32('mmio_len', 8), u16('num_subchn', 12)]),
  pd('sw_dpath', C.PD_API_OP_SW_DATAPATH, false, [u8('host_dpath_is_pd', 0), u8('guest_pd_enabled', 1)]),
  pd('open_prov', C.PD_API_OP_OPEN_PROVIDER, false, u32s(0, 'prov_id', 'flag')),
  pd('cls_prov', C.PD_API_OP_CLOSE_PROVIDER, false, [u32('prov_id', 0)]),
  pd('cr_q', C.PD_API_OP_CREATE_QUEUE, false, [
    u32('prov_id', 0),
    u16('q_id', 4),
    u16('q_size', 6),
    u8('is_recv_q', 8),
    u8('is_rss_q', 9),
    u32('recv_data_len', 10),
    struct('affy', 14, grpAffinity),
  ]),
  pd('del_q', C.PD_API_OP_FREE_QUEUE, false, [u32('prov_id', 0), u16('q_id', 4)]),
  pd('flush_q', C.PD_API_OP_FLUSH_QUEUE, false, [u32('prov_id', 0), u16('q_id', 4)]),
  pd('alloc_com_buf', C.PD_API_OP_ALLOC_COM_BUF, false, [u32('len', 0), u32('pf_node', 4), u16('region_id', 8)]),
  pd('free_com_buf', C.PD_API_OP_FREE_COM_BUF, false, [u32('len', 0), u64('pa', 4), u32('pf_node', 12), u16('region_id', 16), u8('cache_type', 18)]),
  pd('config', C.PD_API_OP_CONFIG, true, [u16('num_pd_q', 0), u8('num_rss_q', 2), u8('is_supported', 3), u8('is_enabled', 4)]),
  pd('open_prov', C.PD_API_OP_OPEN_PROVIDER, true, [u32('prov_id', 0)]),
  pd('cr_q', C.PD_API_OP_CREATE_QUEUE, true, [u32('prov_id', 0), u16('q_id', 4), u16('q_size', 6), u32('recv_data_len', 8), struct('affy', 12, grpAffinity)]),
  pd('alloc_com_buf', C.PD_API_OP_ALLOC_COM_BUF, true, [u64('pa', 0), u32('len', 8), u32('pf_node', 12), u16('region_id', 16), u8('cache_type', 18)]),
];

/** `struct nvsp_6_pd_batch_msg`: a stand-alone message with its own header and pd_buf entries at 8. */
export const pdBatchHead: Layout = layout('nvsp_6_pd_batch_msg', 8, [
  msgType,
  u16('count', 4),
  {
    kind: 'bits',
    name: null,
    at: 6,
    bytes: 2,
    views: [{ name: null, bits: [{ name: 'guest2host', shift: 0, width: 1 }, { name: 'is_recv', shift: 1, width: 1 }, { name: 'reserved', shift: 2, width: 14 }] }],
    valueKey: null,
  },
]);

/** The 8-byte receive completion body (type 108 + status) Linux sends for transfer-page packets. */
export const recvCompMsg: Layout = layout('recv_comp_msg', NVSP_RECV_COMPLETION_SIZE, [msgType, u32('status', 4)]);

/** Finds the body for a type; `completion` picks between 133/135 request and completion forms. */
export function nvspBodyFor(type: number, completion: boolean, op: number): NvspBody | undefined {
  const all = NVSP_BODIES.filter((b) => b.type === type);
  if (all.length <= 1) return all[0];
  const byDir = all.filter((b) => b.completion === completion);
  if (type !== C.NVSP_MSG6_TYPE_PD_API) return byDir[0];
  return byDir.find((b) => b.op === op);
}
