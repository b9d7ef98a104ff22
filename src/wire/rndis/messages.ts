/**
 * Control-path RNDIS face (protocol.md §5.2): every message kind as a plain object with the
 * camelCase kernel names, discriminated on `ndisMsgType`. Data found at an offset is given under
 * the kernel's name for it (hwcaps, rsscap, offloadParams, rssp+itab+keyp, cpi, hwMacAdr,
 * linkSpeed, newFilter, speed, perPktInfo, data) or as raw `infoBuf`/`statusBuf` bytes.
 */
import type * as C from '../constants.js';
import { REPR, type ValueObject } from '../layout/value.js';
import { type InfoHint, decodeRndis, encodeRndis, rndisSize } from './codec.js';

type M<N extends number, F> = { readonly ndisMsgType: N; readonly msgLen: number } & Readonly<F>;
type Obj = { readonly [k: string]: number | bigint | string | Uint8Array | Obj | readonly (number | Obj)[] };

export interface Ppi {
  readonly size: number;
  readonly type: number;
  readonly internal: number;
  readonly ppiOffset: number;
  readonly csumInfo?: Obj;
  readonly vlan?: Obj;
  readonly lsoInfo?: Obj;
  readonly hashInfo?: number;
  readonly pktinfoId?: { readonly ver: number; readonly flag: number; readonly pktId: number };
  readonly payload?: Uint8Array;
}

interface InfoData {
  readonly hwcaps?: Obj;
  readonly cap?: Obj;
  readonly rsscap?: Obj;
  readonly offloadParams?: Obj;
  readonly rssp?: Obj;
  readonly itab?: readonly number[];
  readonly keyp?: Uint8Array;
  readonly cpi?: Obj;
  readonly cfgNwadr?: Uint8Array;
  readonly cfgMac?: Uint8Array;
  readonly hwMacAdr?: string;
  readonly linkSpeed?: number;
  readonly newFilter?: number;
  readonly infoBuf?: Uint8Array;
}

export type RndisMessage =
  | M<typeof C.RNDIS_MSG_PACKET, { dataOffset: number; dataLen: number; oobDataOffset: number; oobDataLen: number; numOobDataElements: number; perPktInfoOffset: number; perPktInfoLen: number; vcHandle: number; reserved: number; perPktInfo?: readonly Ppi[]; data?: Uint8Array }>
  | M<typeof C.RNDIS_MSG_INIT, { reqId: number; majorVer: number; minorVer: number; maxXferSize: number }>
  | M<typeof C.RNDIS_MSG_INIT_C, { reqId: number; status: number; majorVer: number; minorVer: number; devFlags: number; medium: number; maxPktPerMsg: number; maxXferSize: number; pktAlignmentFactor: number; afListOffset: number; afListSize: number }>
  | M<typeof C.RNDIS_MSG_HALT, { reqId: number }>
  | M<typeof C.RNDIS_MSG_QUERY, { reqId: number; oid: number; infoBuflen: number; infoBufOffset: number; devVcHandle: number } & InfoData>
  | M<typeof C.RNDIS_MSG_QUERY_C, { reqId: number; status: number; infoBuflen: number; infoBufOffset: number } & InfoData>
  | M<typeof C.RNDIS_MSG_SET, { reqId: number; oid: number; infoBuflen: number; infoBufOffset: number; devVcHandle: number } & InfoData>
  | M<typeof C.RNDIS_MSG_SET_C, { reqId: number; status: number }>
  | M<typeof C.RNDIS_MSG_RESET, { reserved: number }>
  | M<typeof C.RNDIS_MSG_RESET_C, { status: number; addressingReset: number }>
  | M<typeof C.RNDIS_MSG_INDICATE, { status: number; statusBuflen: number; statusBufOffset: number; speed?: number; statusBuf?: Uint8Array }>
  | M<typeof C.RNDIS_MSG_KEEPALIVE, { reqId: number }>
  | M<typeof C.RNDIS_MSG_KEEPALIVE_C, { reqId: number; status: number }>;

export interface ParseRndisOptions {
  /** What a QUERY_C info buffer holds (a completion carries no OID); by shape when absent. */
  readonly info?: InfoHint;
}

/**
 * Parses one RNDIS message from dv[at, at+len): msg_len and every offset are checked (§8 29–51).
 * @example parseRndis(dv, 0, 16) // → { ndisMsgType: RNDIS_MSG_SET_C, msgLen: 16, reqId, status }
 */
export function parseRndis(dv: DataView, at: number, len: number, opts: ParseRndisOptions = {}): RndisMessage {
  return decodeRndis(dv, at, len, REPR, opts.info ? { info: opts.info } : {}) as unknown as RndisMessage;
}

/** Bytes emitRndis() writes: msg_len. */
export function rndisMessageSize(msg: RndisMessage): number {
  return rndisSize(msg as unknown as ValueObject, REPR);
}

/** Writes `msg` at dv[at..] (offsets and lengths as given, checked); returns msg_len. */
export function emitRndis(msg: RndisMessage, dv: DataView, at: number): number {
  return encodeRndis(msg as unknown as ValueObject, dv, at, REPR);
}
