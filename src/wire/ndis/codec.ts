/**
 * Style-generic codecs for the NDIS objects whose size or extra data is given inside them.
 * RSS parameters: the indirection table and the key are found at the offsets the object gives,
 * never assumed to follow in a fixed order (Linux puts the table first, FreeBSD the key; §5.10).
 */
import { bytesToHex, malformed, need } from '../bytes.js';
import { type Layout, decodeLayout, encodeLayout } from '../layout/struct.js';
import { type MutableObject, type Style, type ValueObject, getBytes, getList, getNum, getObj, key } from '../layout/value.js';
import { ndisRecvScaleParam } from './layouts.js';

/** Decodes a size-bounded object (offload params, ndis_offload) of `len` bytes. */
export function decodeSized(l: Layout, dv: DataView, at: number, len: number, style: Style): MutableObject {
  need(at, Math.min(len, l.size), dv.byteLength, l.name);
  need(0, 4, len, `${l.name} header`);
  return decodeLayout(l, dv, at, Math.min(len, l.size), style);
}

/** Size an object encodes to: its header.size, bounded by the struct (0 means the full struct). */
export function sizedLength(l: Layout, obj: ValueObject, style: Style): number {
  const header = getObj(obj, key(style, 'header'), l.name) ?? getObj(obj, key(style, 'hdr'), l.name) ?? {};
  const size = getNum(header, key(style, 'size'), `${l.name}.header`);
  if (size === 0) return l.size;
  if (size < 4 || size > l.size) throw malformed(`${l.name}.header.size ${size} is outside 4..${l.size}`);
  return size;
}

export function encodeSized(l: Layout, obj: ValueObject, dv: DataView, at: number, len: number, style: Style): void {
  new Uint8Array(dv.buffer, dv.byteOffset + at, len).fill(0);
  encodeLayout(l, obj, dv, at, Math.min(len, l.size), style);
}

/** RSS parameters plus the table and key they point at, all within [at, at+len). */
export function decodeRssParamsWithTables(dv: DataView, at: number, len: number, style: Style): MutableObject {
  const head = decodeLayout(ndisRecvScaleParam, dv, at, 40, style);
  need(0, 40, len, 'ndis_recv_scale_param');
  const tabSize = dv.getUint16(at + 12, true);
  const tabOffset = dv.getUint32(at + 16, true);
  const keySize = dv.getUint16(at + 20, true);
  const keyOffset = dv.getUint32(at + 24, true);
  if (tabSize % 4 !== 0) throw malformed(`RSS indirect_tabsize ${tabSize} is not a whole number of u32 entries`);
  need(tabOffset, tabSize, len, 'RSS indirection table (indirect_taboffset + indirect_tabsize)');
  need(keyOffset, keySize, len, 'RSS hash key (hashkey_offset + hashkey_size)');
  const itab: number[] = [];
  for (let i = 0; i < tabSize / 4; i++) itab.push(dv.getUint32(at + tabOffset + 4 * i, true));
  const keyBytes = new Uint8Array(dv.buffer, dv.byteOffset + at + keyOffset, keySize);
  return { ...head, [key(style, 'itab')]: itab, [key(style, 'keyp')]: style.camel ? keyBytes.slice() : bytesToHex(keyBytes) };
}

/** Size = the furthest of the struct, the table end and the key end. */
export function rssParamsSize(obj: ValueObject, style: Style): number {
  const itab = getList(obj, key(style, 'itab'), 'rss') ?? [];
  const keyBytes = getBytes(obj, key(style, 'keyp'), 'rss') ?? new Uint8Array(0);
  const tabEnd = itab.length ? getNum(obj, key(style, 'indirect_taboffset'), 'rss') + 4 * itab.length : 0;
  const keyEnd = keyBytes.length ? getNum(obj, key(style, 'hashkey_offset'), 'rss') + keyBytes.length : 0;
  return Math.max(40, tabEnd, keyEnd);
}

export function encodeRssParamsWithTables(obj: ValueObject, dv: DataView, at: number, style: Style): number {
  const size = rssParamsSize(obj, style);
  need(at, size, dv.byteLength, 'ndis_recv_scale_param with table and key');
  const itabKey = key(style, 'itab');
  const keypKey = key(style, 'keyp');
  const itab = getList(obj, itabKey, 'rss') ?? [];
  const keyBytes = getBytes(obj, keypKey, 'rss') ?? new Uint8Array(0);
  const { [itabKey]: _t, [keypKey]: _k, ...head } = obj;
  encodeLayout(ndisRecvScaleParam, head, dv, at, 40, style);
  if (getNum(obj, key(style, 'indirect_tabsize'), 'rss') !== 4 * itab.length) throw malformed(`indirect_tabsize does not match ${itab.length} itab entries`);
  if (getNum(obj, key(style, 'hashkey_size'), 'rss') !== keyBytes.length) throw malformed(`hashkey_size does not match the ${keyBytes.length}-byte key`);
  const tabOffset = getNum(obj, key(style, 'indirect_taboffset'), 'rss');
  const keyOffset = getNum(obj, key(style, 'hashkey_offset'), 'rss');
  if (itab.length && tabOffset < 40) throw malformed(`indirect_taboffset ${tabOffset} overlaps the 40-byte struct`);
  if (keyBytes.length && keyOffset < 40) throw malformed(`hashkey_offset ${keyOffset} overlaps the 40-byte struct`);
  if (itab.length && keyBytes.length && tabOffset < keyOffset + keyBytes.length && keyOffset < tabOffset + 4 * itab.length) {
    throw malformed('RSS indirection table and hash key overlap');
  }
  itab.forEach((_, i) => dv.setUint32(at + tabOffset + 4 * i, getNum(itab as unknown as ValueObject, String(i), 'itab'), true));
  new Uint8Array(dv.buffer, dv.byteOffset + at + keyOffset, keyBytes.length).set(keyBytes);
  return size;
}
