/**
 * Decode and encode one NVSP message body in either value style (record or repr). The tails
 * (receive-buffer sections, send indirection table) are located by the counts and offsets in the
 * message and checked against the message length (protocol.md §3.4, §3.9, §8 items 13 and 18).
 */
import { malformed, need } from '../bytes.js';
import { layoutExtent } from '../layout/extent.js';
import { decodeLayout, encodeLayout } from '../layout/struct.js';
import { type MutableObject, type Style, type ValueObject, getList, getNum, key } from '../layout/value.js';
import { decodeFixedList, encodeFixedList } from '../vmbus/ranges.js';
import { NVSP_MESSAGE_SIZE, type NvspBody, pdBatchHead, pdBuf, recvBufSection } from './layouts.js';

/** Decodes the body `b` from dv[at, at+len). `partial` tolerates a tail that is not all there. */
export function decodeNvspBody(b: NvspBody, dv: DataView, at: number, len: number, style: Style, partial = false): MutableObject {
  need(at, len, dv.byteLength, 'NVSP message');
  const extent = layoutExtent(b.layout);
  need(0, extent, len, `NVSP ${b.body} (its fields end at byte ${extent})`);
  const out = decodeLayout(b.layout, dv, at, Math.min(len, NVSP_MESSAGE_SIZE), style);
  switch (b.tail.kind) {
    case 'none':
      break;
    case 'sections': {
      const n = dv.getUint32(at + 8, true);
      if (!partial || 12 + 16 * n <= len) out[key(style, 'sections')] = decodeFixedList(dv, at + 12, at + len, n, recvBufSection, style);
      break;
    }
    case 'txTable': {
      const count = dv.getUint32(at + 4, true);
      const offset = dv.getUint32(at + 8, true);
      if (partial && offset + 4 * count > len) break;
      need(offset, 4 * count, len, `send indirection table (count ${count} at offset ${offset})`);
      if (offset < 12) throw malformed(`send indirection table offset ${offset} overlaps the message header`);
      const table: number[] = [];
      for (let i = 0; i < count; i++) table.push(dv.getUint32(at + offset + 4 * i, true));
      out[key(style, 'tx_table')] = table;
      break;
    }
  }
  return out;
}

/** Bytes the encoded body needs: 40, or more when a tail runs past the fixed message. */
export function nvspBodySize(b: NvspBody, obj: ValueObject, style: Style): number {
  switch (b.tail.kind) {
    case 'none':
      return NVSP_MESSAGE_SIZE;
    case 'sections': {
      const n = (getList(obj, key(style, 'sections'), b.body) ?? []).length;
      return Math.max(NVSP_MESSAGE_SIZE, 12 + 16 * n);
    }
    case 'txTable': {
      const n = (getList(obj, key(style, 'tx_table'), b.body) ?? []).length;
      return Math.max(NVSP_MESSAGE_SIZE, getNum(obj, key(style, 'offset'), b.body) + 4 * n);
    }
  }
}

export function encodeNvspBody(b: NvspBody, obj: ValueObject, dv: DataView, at: number, style: Style): number {
  const size = nvspBodySize(b, obj, style);
  need(at, size, dv.byteLength, `NVSP ${b.body}`);
  new Uint8Array(dv.buffer, dv.byteOffset + at, size).fill(0);
  const head: MutableObject = {};
  const tailKey = b.tail.kind === 'sections' ? key(style, 'sections') : b.tail.kind === 'txTable' ? key(style, 'tx_table') : null;
  for (const [k, v] of Object.entries(obj)) if (k !== tailKey) head[k] = v;
  encodeLayout(b.layout, head, dv, at, NVSP_MESSAGE_SIZE, style);
  if (tailKey !== null) {
    const list = getList(obj, tailKey, b.body) ?? [];
    if (b.tail.kind === 'sections') {
      if (getNum(obj, key(style, 'num_sections'), b.body) !== list.length) throw malformed(`num_sections does not match ${list.length} sections`);
      encodeFixedList(dv, at + 12, list, recvBufSection, style, 'sections');
    } else {
      if (getNum(obj, key(style, 'count'), b.body) !== list.length) throw malformed(`count does not match ${list.length} tx_table entries`);
      const offset = getNum(obj, key(style, 'offset'), b.body);
      if (offset < 12 && list.length > 0) throw malformed(`send indirection table offset ${offset} overlaps the message header`);
      list.forEach((_, i) => dv.setUint32(at + offset + 4 * i, getNum(list as unknown as ValueObject, String(i), 'tx_table'), true));
    }
  }
  return size;
}

/** `struct nvsp_6_pd_batch_msg` with its pd_buf entries. */
export function decodePdBatch(dv: DataView, at: number, len: number, style: Style): MutableObject {
  need(0, 8, len, 'nvsp_6_pd_batch_msg header');
  const out = decodeLayout(pdBatchHead, dv, at, 8, style);
  const n = dv.getUint16(at + 4, true);
  out[key(style, 'pd_buf')] = decodeFixedList(dv, at + 8, at + len, n, pdBuf, style);
  return out;
}

export function pdBatchSize(obj: ValueObject, style: Style): number {
  return 8 + 8 * (getList(obj, key(style, 'pd_buf'), 'pd_batch') ?? []).length;
}

export function encodePdBatch(obj: ValueObject, dv: DataView, at: number, style: Style): number {
  const list = getList(obj, key(style, 'pd_buf'), 'nvsp_6_pd_batch_msg') ?? [];
  const size = 8 + 8 * list.length;
  need(at, size, dv.byteLength, 'nvsp_6_pd_batch_msg');
  if (getNum(obj, key(style, 'count'), 'nvsp_6_pd_batch_msg') !== list.length) throw malformed(`count does not match ${list.length} pd_buf entries`);
  const { [key(style, 'pd_buf')]: _l, ...head } = obj;
  encodeLayout(pdBatchHead, head, dv, at, 8, style);
  encodeFixedList(dv, at + 8, list, pdBuf, style, 'pd_buf');
  return size;
}

