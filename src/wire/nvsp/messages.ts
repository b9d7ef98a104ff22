/**
 * Control-path NVSP face (protocol.md §3.4): plain readonly objects discriminated on `type`
 * (the msg_type), with camelCase names of the kernel fields. Types 133 and 135 carry a request
 * and a completion with the same number, so those variants also carry `completion`; a PD API
 * message names its union member by `op` and holds it under the member's camelCase name.
 */
import * as C from '../constants.js';
import { WireError } from '../../core/index.js';
import { need } from '../bytes.js';
import { REPR, type MutableObject, type ValueObject } from '../layout/value.js';
import { decodeNvspBody, decodePdBatch, encodeNvspBody, encodePdBatch, nvspBodySize, pdBatchSize } from './codec.js';
import { type NvspBody, nvspBodyFor } from './layouts.js';

type T<N extends number, F> = { readonly type: N } & Readonly<F>;

export interface RecvBufSection {
  readonly offset: number;
  readonly subAllocSize: number;
  readonly numSubAllocs: number;
  readonly endOffset: number;
}
export interface VscCapability {
  readonly vmq?: number;
  readonly chimney?: number;
  readonly sriov?: number;
  readonly ieee8021q?: number;
  readonly correlationId?: number;
  readonly teaming?: number;
  readonly vsubnetid?: number;
  readonly rsc?: number;
  /** The whole u64; bits named above are laid over it. */
  readonly data?: bigint;
}
export interface GrpAffinity {
  readonly mask: bigint;
  readonly grp: number;
  readonly reserved: readonly number[];
}
export interface PdBuf {
  readonly regionOffset: number;
  readonly regionId: number;
  readonly isPartial: number;
  readonly reserved: number;
}

export type NvspMessage =
  | T<typeof C.NVSP_MSG_TYPE_INIT, { minProtocolVer: number; maxProtocolVer: number }>
  | T<typeof C.NVSP_MSG_TYPE_INIT_COMPLETE, { negotiatedProtocolVer: number; maxMdlChainLen: number; status: number }>
  | T<typeof C.NVSP_MSG1_TYPE_SEND_NDIS_VER, { ndisMajorVer: number; ndisMinorVer: number }>
  | T<typeof C.NVSP_MSG1_TYPE_SEND_RECV_BUF, { gpadlHandle: number; id: number }>
  | T<typeof C.NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE, { status: number; numSections: number; sections: readonly RecvBufSection[] }>
  | T<typeof C.NVSP_MSG1_TYPE_REVOKE_RECV_BUF, { id: number }>
  | T<typeof C.NVSP_MSG1_TYPE_SEND_SEND_BUF, { gpadlHandle: number; id: number }>
  | T<typeof C.NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE, { status: number; sectionSize: number }>
  | T<typeof C.NVSP_MSG1_TYPE_REVOKE_SEND_BUF, { id: number }>
  | T<typeof C.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, { channelType: number; sendBufSectionIndex: number; sendBufSectionSize: number }>
  | T<typeof C.NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, { status: number }>
  | T<typeof C.NVSP_MSG2_TYPE_ALLOC_RXBUF, { allocId: number; len: number }>
  | T<typeof C.NVSP_MSG2_TYPE_ALLOC_RXBUF_COMP, { status: number; allocId: number; gpadlHandle: number; recvBufId: bigint }>
  | T<typeof C.NVSP_MSG2_TYPE_FREE_RXBUF, { recvBufId: bigint }>
  | T<typeof C.NVSP_MSG2_TYPE_SEND_NDIS_CONFIG, { mtu: number; reserved: number; capability: VscCapability }>
  | T<typeof C.NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION, { allocated: number; serial: number }>
  | T<typeof C.NVSP_MSG4_TYPE_SWITCH_DATA_PATH, { activeDatapath: number }>
  | T<typeof C.NVSP_MSG5_TYPE_SUBCHANNEL, { completion: false; op: number; numSubchannels: number }>
  | T<typeof C.NVSP_MSG5_TYPE_SUBCHANNEL, { completion: true; status: number; numSubchannels: number }>
  | T<typeof C.NVSP_MSG5_TYPE_SEND_INDIRECTION_TABLE, { count: number; offset: number; txTable: readonly number[] }>
  | T<typeof C.NVSP_MSG6_TYPE_PD_API, { completion: false; op: number } & PdMember>
  | T<typeof C.NVSP_MSG6_TYPE_PD_API, { completion: true; op: number; status: number } & PdMember>
  | T<typeof C.NVSP_MSG6_TYPE_PD_POST_BATCH, { count: number; guest2host: number; isRecv: number; reserved: number; pdBuf: readonly PdBuf[] }>;

/** The PD API union member; which one is present follows from `op` (and the direction). */
export interface PdMember {
  readonly config?: { readonly mmioPa?: bigint; readonly mmioLen?: number; readonly numSubchn?: number; readonly numPdQ?: number; readonly numRssQ?: number; readonly isSupported?: number; readonly isEnabled?: number };
  readonly swDpath?: { readonly hostDpathIsPd: number; readonly guestPdEnabled: number };
  readonly openProv?: { readonly provId: number; readonly flag?: number };
  readonly clsProv?: { readonly provId: number };
  readonly crQ?: { readonly provId: number; readonly qId: number; readonly qSize: number; readonly isRecvQ?: number; readonly isRssQ?: number; readonly recvDataLen: number; readonly affy: GrpAffinity };
  readonly delQ?: { readonly provId: number; readonly qId: number };
  readonly flushQ?: { readonly provId: number; readonly qId: number };
  readonly allocComBuf?: { readonly len: number; readonly pfNode: number; readonly regionId: number; readonly pa?: bigint; readonly cacheType?: number };
  readonly freeComBuf?: { readonly len: number; readonly pa: bigint; readonly pfNode: number; readonly regionId: number; readonly cacheType: number };
}

export interface ParseNvspOptions {
  /** The message arrived in a completion packet (VM_PKT_COMP): picks the completion form of 133/135. */
  readonly completion?: boolean;
}

const DIRECTIONAL: ReadonlySet<number> = new Set([C.NVSP_MSG5_TYPE_SUBCHANNEL, C.NVSP_MSG6_TYPE_PD_API]);

function bodyOf(type: number, completion: boolean, op: number): NvspBody {
  const b = nvspBodyFor(type, completion, op);
  if (!b) throw new WireError('UNSUPPORTED', `NVSP msg_type ${type}${type === C.NVSP_MSG6_TYPE_PD_API ? ` op ${op}` : ''} has no message layout (protocol.md §3.2)`);
  return b;
}

/**
 * Parses one NVSP message from dv[at, at+len).
 * @example parseNvsp(dv, 0, 40) // → { type: 1, minProtocolVer: 0x60001, maxProtocolVer: 0x60001 }
 */
export function parseNvsp(dv: DataView, at: number, len: number, opts: ParseNvspOptions = {}): NvspMessage {
  need(at, len, dv.byteLength, 'NVSP message');
  need(0, 4, len, 'NVSP header (msg_type)');
  const type = dv.getUint32(at, true);
  if (type === C.NVSP_MSG6_TYPE_PD_POST_BATCH) return toRepr(decodePdBatch(dv, at, len, REPR), type, undefined);
  const completion = opts.completion === true;
  const op = type === C.NVSP_MSG6_TYPE_PD_API && len >= 8 ? dv.getUint32(at + 4, true) : 0;
  const b = bodyOf(type, completion, op);
  return toRepr(decodeNvspBody(b, dv, at, len, REPR), type, DIRECTIONAL.has(type) ? completion : undefined);
}

function toRepr(o: MutableObject, type: number, completion: boolean | undefined): NvspMessage {
  const { msgType: _t, ...rest } = o;
  return (completion === undefined ? { type, ...rest } : { type, completion, ...rest }) as unknown as NvspMessage;
}

function fromRepr(msg: NvspMessage): [NvspBody | null, ValueObject] {
  const { type, ...rest } = msg as unknown as { type: number; completion?: boolean; op?: number } & ValueObject;
  const { completion, ...fields } = rest as { completion?: boolean } & ValueObject;
  const obj: ValueObject = { msgType: type, ...fields };
  if (type === C.NVSP_MSG6_TYPE_PD_POST_BATCH) return [null, obj];
  return [bodyOf(type, completion === true, typeof fields['op'] === 'number' ? fields['op'] : 0), obj];
}

/** Bytes emitNvsp() writes: 40 (sizeof nvsp_message), more for long tails, 8 + 8n for a PD batch. */
export function nvspSize(msg: NvspMessage): number {
  const [b, obj] = fromRepr(msg);
  return b ? nvspBodySize(b, obj, REPR) : pdBatchSize(obj, REPR);
}

/** Writes `msg` at dv[at..]; returns the bytes written (nvspSize(msg)). */
export function emitNvsp(msg: NvspMessage, dv: DataView, at: number): number {
  const [b, obj] = fromRepr(msg);
  return b ? encodeNvspBody(b, obj, dv, at, REPR) : encodePdBatch(obj, dv, at, REPR);
}
