/**
 * Style-generic RNDIS message codec (protocol.md §5.2, §5.8–5.12, §8 items 29–51). The info,
 * status and data areas are located by the offsets in the message (counted from byte 8) and
 * checked against msg_len and the buffer. The info buffer is shown under the kernel's name for
 * what it holds: the OID of a request says which; a query completion carries no OID, so its
 * contents are recognised by the struct suffix of the record name, or by their shape.
 */
import * as C from '../constants.js';
import { bytesToHex, macFromString, macToString, malformed, need } from '../bytes.js';
import { WireError } from '../../core/index.js';
import { type ViewHints, decodeLayout, encodeLayout } from '../layout/struct.js';
import { type MutableObject, type Style, type Value, type ValueObject, getBytes, getList, getNum, getObj, key } from '../layout/value.js';
import { decodeRssParamsWithTables, decodeSized, encodeRssParamsWithTables, encodeSized, rssParamsSize } from '../ndis/codec.js';
import { ndisOffload, ndisOffloadParams, ndisRecvScaleCap } from '../ndis/layouts.js';
import { decodePpiList, encodePpiList, ppiListSize } from '../ppi/codec.js';
import { RNDIS_HEADER_SIZE, type RndisBody, rndisBodyFor, rndisConfigParameterInfo } from './layouts.js';

/** What a query completion's info buffer holds, when the caller knows. */
export type InfoHint = 'hwcaps' | 'rsscap';

export interface RndisDecodeOptions {
  readonly partial?: boolean;
  readonly hints?: ViewHints;
  readonly info?: InfoHint;
}

const INFO_KEYS = ['hwcaps', 'cap', 'rsscap', 'offload_params', 'rssp', 'itab', 'keyp', 'cpi', 'cfg_nwadr', 'cfg_mac', 'hw_mac_adr', 'link_speed', 'new_filter', 'info_buf', 'speed', 'status_buf', 'per_pkt_info', 'data'];

export function decodeRndis(dv: DataView, at: number, len: number, style: Style, opts: RndisDecodeOptions = {}): MutableObject {
  need(at, len, dv.byteLength, 'RNDIS message');
  need(0, RNDIS_HEADER_SIZE, len, 'RNDIS header (ndis_msg_type, msg_len)');
  const type = dv.getUint32(at, true);
  const msgLen = dv.getUint32(at + 4, true);
  const b = rndisBodyFor(type);
  if (!b) throw new WireError('UNSUPPORTED', `RNDIS ndis_msg_type 0x${type.toString(16)} is not a known message type`);
  return decodeRndisBody(b, dv, at, len, msgLen, style, opts);
}

export function decodeRndisBody(b: RndisBody, dv: DataView, at: number, len: number, msgLen: number, style: Style, opts: RndisDecodeOptions): MutableObject {
  const partial = opts.partial === true;
  if (msgLen < b.layout.size) throw malformed(`RNDIS ${b.body}: msg_len ${msgLen} is shorter than its ${b.layout.size}-byte fixed part`);
  need(0, b.layout.size, len, `RNDIS ${b.body}`);
  if (!partial && msgLen > len) throw new WireError('TRUNCATED', `RNDIS msg_len ${msgLen} runs past the ${len} bytes there`);
  // Everything located by an offset must lie inside the message and inside the bytes we have.
  const bound = Math.min(msgLen, len);
  const out = decodeLayout(b.layout, dv, at, b.layout.size, style);
  const body = at + RNDIS_HEADER_SIZE;
  const area = (offField: number, lenField: number, what: string): [number, number] | null => {
    const off = dv.getUint32(at + offField, true);
    const n = dv.getUint32(at + lenField, true);
    if (n === 0) return null;
    if (RNDIS_HEADER_SIZE + off + n > msgLen) throw malformed(`${what} (offset ${off} + length ${n} from byte 8) runs past msg_len ${msgLen}`);
    if (RNDIS_HEADER_SIZE + off + n > bound) {
      if (partial) return null;
      need(RNDIS_HEADER_SIZE + off, n, bound, what);
    }
    if (RNDIS_HEADER_SIZE + off < b.layout.size) throw malformed(`${what} at offset ${off} overlaps the ${b.body} header`);
    return [body + off, n];
  };
  switch (b.info) {
    case 'none':
      break;
    case 'query':
    case 'set':
    case 'queryComplete': {
      const isComplete = b.info === 'queryComplete';
      const a = area(isComplete ? 20 : 20, isComplete ? 16 : 16, 'info buffer (info_buf_offset, info_buflen)');
      if (!a) break;
      const oid = isComplete ? -1 : dv.getUint32(at + 12, true);
      decodeInfo(dv, a[0], a[1], oid, b.info, style, opts.info, out);
      break;
    }
    case 'indicate': {
      const a = area(16, 12, 'status buffer (status_buf_offset, status_buflen)');
      if (!a) break;
      const status = dv.getUint32(at + 8, true);
      if (status === C.RNDIS_STATUS_LINK_SPEED_CHANGE && a[1] >= 4) out[key(style, 'speed')] = dv.getUint32(a[0], true);
      else out[key(style, 'status_buf')] = bytesOut(dv, a[0], a[1], style);
      break;
    }
    case 'packet': {
      const ppi = area(28, 32, 'PPI area (per_pkt_info_offset, per_pkt_info_len)');
      if (ppi) out[key(style, 'per_pkt_info')] = decodePpiList(dv, ppi[0], ppi[1], style, opts.hints);
      const data = area(8, 12, 'frame data (data_offset, data_len)');
      if (data) out[key(style, 'data')] = bytesOut(dv, data[0], data[1], style);
      break;
    }
  }
  return out;
}

function bytesOut(dv: DataView, at: number, n: number, style: Style): Value {
  const v = new Uint8Array(dv.buffer, dv.byteOffset + at, n);
  return style.camel ? v.slice() : bytesToHex(v);
}

function decodeInfo(dv: DataView, at: number, n: number, oid: number, info: 'query' | 'set' | 'queryComplete', style: Style, hint: InfoHint | undefined, out: MutableObject): void {
  const k = (s: string) => key(style, s);
  if (info === 'queryComplete') {
    const first = dv.getUint8(at);
    if (hint === 'hwcaps' || (hint === undefined && first === C.NDIS_OBJECT_TYPE_OFFLOAD && n >= 4)) out[k('hwcaps')] = decodeSized(ndisOffload, dv, at, n, style);
    else if (hint === 'rsscap' || (hint === undefined && first === C.NDIS_OBJECT_TYPE_RSS_CAPABILITIES && n === ndisRecvScaleCap.size))
      out[k('rsscap')] = decodeLayout(ndisRecvScaleCap, dv, at, ndisRecvScaleCap.size, style);
    else if (n === 6) out[k('hw_mac_adr')] = macToString(new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength), at);
    else if (n === 4) out[k('link_speed')] = dv.getUint32(at, true);
    else out[k('info_buf')] = bytesOut(dv, at, n, style);
    return;
  }
  switch (oid) {
    case C.OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES:
      out[k('hwcaps')] = decodeSized(ndisOffload, dv, at, n, style);
      return;
    case C.OID_GEN_RECEIVE_SCALE_CAPABILITIES:
      need(0, ndisRecvScaleCap.size, n, 'ndis_recv_scale_cap');
      out[k('cap')] = decodeLayout(ndisRecvScaleCap, dv, at, ndisRecvScaleCap.size, style);
      return;
    case C.OID_TCP_OFFLOAD_PARAMETERS:
      out[k('offload_params')] = decodeSized(ndisOffloadParams, dv, at, n, style);
      return;
    case C.OID_GEN_RECEIVE_SCALE_PARAMETERS: {
      const all = decodeRssParamsWithTables(dv, at, n, style);
      const { [k('itab')]: itab, [k('keyp')]: keyp, ...rssp } = all;
      out[k('rssp')] = rssp;
      out[k('itab')] = itab!;
      out[k('keyp')] = keyp!;
      return;
    }
    case C.RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER: {
      need(0, 20, n, 'rndis_config_parameter_info');
      const cpi = decodeLayout(rndisConfigParameterInfo, dv, at, 20, style);
      const nameOff = dv.getUint32(at, true);
      const nameLen = dv.getUint32(at + 4, true);
      const valOff = dv.getUint32(at + 12, true);
      const valLen = dv.getUint32(at + 16, true);
      need(nameOff, nameLen, n, 'config parameter name (parameter_name_offset/length)');
      need(valOff, valLen, n, 'config parameter value (parameter_value_offset/length)');
      out[k('cpi')] = cpi;
      out[k('cfg_nwadr')] = bytesOut(dv, at + nameOff, nameLen, style);
      out[k('cfg_mac')] = bytesOut(dv, at + valOff, valLen, style);
      return;
    }
    case C.RNDIS_OID_GEN_CURRENT_PACKET_FILTER:
      if (n === 4) {
        out[k('new_filter')] = dv.getUint32(at, true);
        return;
      }
      break;
  }
  out[k('info_buf')] = bytesOut(dv, at, n, style);
}

// ---- encoding ----

/** Bytes the message encodes to: msg_len, or up to the data when a partial packet has none. */
export function rndisSize(obj: ValueObject, style: Style): number {
  const msgLen = getNum(obj, key(style, 'ndis_msg_type'), 'rndis') === C.RNDIS_MSG_PACKET && obj[key(style, 'data')] === undefined && getNum(obj, key(style, 'data_len'), 'rndis') > 0
    ? Math.min(getNum(obj, key(style, 'msg_len'), 'rndis'), RNDIS_HEADER_SIZE + getNum(obj, key(style, 'data_offset'), 'rndis'))
    : getNum(obj, key(style, 'msg_len'), 'rndis');
  return msgLen;
}

export function encodeRndis(obj: ValueObject, dv: DataView, at: number, style: Style): number {
  const k = (s: string) => key(style, s);
  const type = getNum(obj, k('ndis_msg_type'), 'rndis');
  const b = rndisBodyFor(type);
  if (!b) throw new WireError('UNSUPPORTED', `RNDIS ndis_msg_type 0x${type.toString(16)} is not a known message type`);
  const size = rndisSize(obj, style);
  if (size < b.layout.size) throw malformed(`RNDIS ${b.body}: msg_len ${size} is shorter than its ${b.layout.size}-byte fixed part`);
  need(at, size, dv.byteLength, `RNDIS ${b.body}`);
  new Uint8Array(dv.buffer, dv.byteOffset + at, size).fill(0);
  const extras = new Set(INFO_KEYS.map(k));
  const head: MutableObject = {};
  for (const [name, v] of Object.entries(obj)) if (!extras.has(name)) head[name] = v;
  encodeLayout(b.layout, head, dv, at, b.layout.size, style);
  const body = at + RNDIS_HEADER_SIZE;
  const place = (offKey: string, lenKey: string, n: number, what: string): number => {
    const off = getNum(obj, k(offKey), b.body);
    const declared = getNum(obj, k(lenKey), b.body);
    if (declared !== n) throw malformed(`${b.body}.${lenKey} = ${declared} but the ${what} is ${n} bytes`);
    if (RNDIS_HEADER_SIZE + off < b.layout.size) throw malformed(`${what} at offset ${off} overlaps the ${b.body} header`);
    need(RNDIS_HEADER_SIZE + off, n, size, `${what} inside msg_len`);
    return body + off;
  };
  const writeBytes = (name: string, offKey: string, lenKey: string) => {
    const bytes = getBytes(obj, k(name), b.body);
    if (!bytes) return false;
    new Uint8Array(dv.buffer, dv.byteOffset + place(offKey, lenKey, bytes.length, name), bytes.length).set(bytes);
    return true;
  };
  const u32At = (name: string, offKey: string, lenKey: string) => {
    if (obj[k(name)] === undefined) return false;
    dv.setUint32(place(offKey, lenKey, 4, name), getNum(obj, k(name), b.body), true);
    return true;
  };
  switch (b.info) {
    case 'none':
      break;
    case 'indicate':
      if (!u32At('speed', 'status_buf_offset', 'status_buflen')) writeBytes('status_buf', 'status_buf_offset', 'status_buflen');
      break;
    case 'packet': {
      const list = getList(obj, k('per_pkt_info'), b.body);
      if (list && list.length) encodePpiList(list, dv, place('per_pkt_info_offset', 'per_pkt_info_len', ppiListSize(list, style), 'PPI area'), style);
      writeBytes('data', 'data_offset', 'data_len');
      break;
    }
    case 'query':
    case 'set':
    case 'queryComplete':
      encodeInfo(obj, dv, b, style, place, writeBytes, u32At);
      break;
  }
  return size;
}

function encodeInfo(
  obj: ValueObject,
  dv: DataView,
  b: RndisBody,
  style: Style,
  place: (offKey: string, lenKey: string, n: number, what: string) => number,
  writeBytes: (name: string, offKey: string, lenKey: string) => boolean,
  u32At: (name: string, offKey: string, lenKey: string) => boolean,
): void {
  const k = (s: string) => key(style, s);
  const buflen = getNum(obj, k('info_buflen'), b.body);
  const sized = (name: string, l: typeof ndisOffload) => {
    const v = getObj(obj, k(name), b.body);
    if (!v) return false;
    if (buflen > l.size) throw malformed(`${b.body}.info_buflen ${buflen} is larger than ${l.name}`);
    encodeSized(l, v, dv, place('info_buf_offset', 'info_buflen', buflen, name), buflen, style);
    return true;
  };
  if (sized('hwcaps', ndisOffload) || sized('offload_params', ndisOffloadParams)) return;
  for (const name of ['cap', 'rsscap']) {
    const v = getObj(obj, k(name), b.body);
    if (v) {
      encodeLayout(ndisRecvScaleCap, v, dv, place('info_buf_offset', 'info_buflen', ndisRecvScaleCap.size, name), ndisRecvScaleCap.size, style);
      return;
    }
  }
  const rssp = getObj(obj, k('rssp'), b.body);
  if (rssp) {
    const all = { ...rssp, [k('itab')]: obj[k('itab')] ?? [], [k('keyp')]: obj[k('keyp')] ?? '' };
    encodeRssParamsWithTables(all, dv, place('info_buf_offset', 'info_buflen', rssParamsSize(all, style), 'RSS parameters'), style);
    return;
  }
  const cpi = getObj(obj, k('cpi'), b.body);
  if (cpi) {
    const name = getBytes(obj, k('cfg_nwadr'), b.body) ?? new Uint8Array(0);
    const value = getBytes(obj, k('cfg_mac'), b.body) ?? new Uint8Array(0);
    const nameOff = getNum(cpi, k('parameter_name_offset'), 'cpi');
    const valOff = getNum(cpi, k('parameter_value_offset'), 'cpi');
    if (getNum(cpi, k('parameter_name_length'), 'cpi') !== name.length || getNum(cpi, k('parameter_value_length'), 'cpi') !== value.length) {
      throw malformed('cpi parameter lengths do not match cfg_nwadr / cfg_mac');
    }
    const total = Math.max(20, nameOff + name.length, valOff + value.length);
    const p = place('info_buf_offset', 'info_buflen', total, 'config parameter');
    encodeLayout(rndisConfigParameterInfo, cpi, dv, p, 20, style);
    new Uint8Array(dv.buffer, dv.byteOffset + p + nameOff, name.length).set(name);
    new Uint8Array(dv.buffer, dv.byteOffset + p + valOff, value.length).set(value);
    return;
  }
  const mac = obj[k('hw_mac_adr')];
  if (typeof mac === 'string') {
    new Uint8Array(dv.buffer, dv.byteOffset + place('info_buf_offset', 'info_buflen', 6, 'hw_mac_adr'), 6).set(macFromString(mac));
    return;
  }
  if (u32At('link_speed', 'info_buf_offset', 'info_buflen') || u32At('new_filter', 'info_buf_offset', 'info_buflen')) return;
  writeBytes('info_buf', 'info_buf_offset', 'info_buflen');
}

