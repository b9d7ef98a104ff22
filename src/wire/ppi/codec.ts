/**
 * Control-path PPI list codec (protocol.md §5.5, §8 item 33): each element is checked against
 * the PPI area; a size that is zero, smaller than the header, or past the area stops the walk
 * with a WireError instead of looping (the Linux walker does not advance on these).
 */
import { bytesToHex, malformed, need } from '../bytes.js';
import { type Field, type ViewHints, decodeLayout, encodeLayout, layout } from '../layout/struct.js';
import { type MutableObject, type Style, type Value, type ValueObject, asObject, getBytes, getNum, key } from '../layout/value.js';
import { PPI_HEADER_SIZE, csumInfo, lsoInfo, pktinfoId, ppiHeader, ppiPayloadOf, vlanInfo } from './layouts.js';

const one = (f: Field) => layout(f.name ?? 'ppi value', 4, [f]);
const CSUM = one(csumInfo);
const VLAN = one(vlanInfo);
const LSO = one(lsoInfo);

/** Decodes the PPI at `at`; returns it and its size. `end` is the end of the PPI area. */
export function decodePpi(dv: DataView, at: number, end: number, style: Style, hints?: ViewHints): [MutableObject, number] {
  need(at, PPI_HEADER_SIZE, end, 'PPI header');
  const size = dv.getUint32(at, true);
  const ppiOffset = dv.getUint32(at + 8, true);
  if (size < PPI_HEADER_SIZE) throw malformed(`PPI size ${size} is smaller than its 12-byte header, so the walk would not advance (protocol.md §8 item 33)`);
  need(at, size, end, `PPI of size ${size}`);
  if (ppiOffset < PPI_HEADER_SIZE || ppiOffset > size) throw malformed(`PPI ppi_offset ${ppiOffset} is outside its ${size}-byte element`);
  const out = decodeLayout(ppiHeader, dv, at, PPI_HEADER_SIZE, style);
  const type = dv.getUint32(at + 4, true) & 0x7fffffff;
  const internal = dv.getUint32(at + 4, true) >>> 31;
  const kind = ppiPayloadOf(type, internal);
  const v = at + ppiOffset;
  const room = size - ppiOffset;
  if (kind !== 'payload' && room < 4) throw malformed(`PPI type ${type} needs a 4-byte value but has ${room} bytes`);
  switch (kind) {
    case 'csum_info':
      Object.assign(out, decodeLayout(CSUM, dv, v, 4, style, hints));
      break;
    case 'vlan':
      Object.assign(out, decodeLayout(VLAN, dv, v, 4, style, hints));
      break;
    case 'lso_info':
      Object.assign(out, decodeLayout(LSO, dv, v, 4, style, hints));
      break;
    case 'hash_info':
      out[key(style, 'hash_info')] = dv.getUint32(v, true);
      break;
    case 'pktinfo_id':
      out[key(style, 'pktinfo_id')] = decodeLayout(pktinfoId, dv, v, 4, style);
      break;
    case 'payload':
      out[key(style, 'payload')] = style.camel ? new Uint8Array(dv.buffer, dv.byteOffset + v, room).slice() : bytesToHex(new Uint8Array(dv.buffer, dv.byteOffset + v, room));
      break;
  }
  return [out, size];
}

/** Walks the PPI area [at, at+len) and returns every element, in wire order. */
export function decodePpiList(dv: DataView, at: number, len: number, style: Style, hints?: ViewHints): MutableObject[] {
  const out: MutableObject[] = [];
  const end = at + len;
  let p = at;
  while (p < end) {
    const [ppi, size] = decodePpi(dv, p, end, style, hints);
    out.push(ppi);
    p += size;
  }
  return out;
}

export function ppiSize(ppi: ValueObject, style: Style): number {
  const size = getNum(ppi, key(style, 'size'), 'PPI');
  return size === 0 ? 16 : size;
}

/** Writes one PPI at `at`; returns its size. */
export function encodePpi(ppi: ValueObject, dv: DataView, at: number, style: Style): number {
  const size = ppiSize(ppi, style);
  const ppiOffset = ppi[key(style, 'ppi_offset')] === undefined ? PPI_HEADER_SIZE : getNum(ppi, key(style, 'ppi_offset'), 'PPI');
  if (size < PPI_HEADER_SIZE || ppiOffset < PPI_HEADER_SIZE || ppiOffset > size) throw malformed(`PPI size ${size} / ppi_offset ${ppiOffset} do not describe a value inside the element`);
  need(at, size, dv.byteLength, 'PPI');
  const type = getNum(ppi, key(style, 'type'), 'PPI');
  const internal = getNum(ppi, key(style, 'internal'), 'PPI');
  const kind = ppiPayloadOf(type, internal);
  const head: MutableObject = {};
  const payloadKey = key(style, kind);
  for (const [k, v] of Object.entries(ppi)) if (k !== payloadKey) head[k] = v;
  encodeLayout(ppiHeader, { ...head, [key(style, 'size')]: size, [key(style, 'ppi_offset')]: ppiOffset }, dv, at, PPI_HEADER_SIZE, style);
  const v = at + ppiOffset;
  const room = size - ppiOffset;
  const val: Value | undefined = ppi[payloadKey];
  if (val === undefined) return size;
  if (kind !== 'payload' && room < 4) throw malformed(`PPI type ${type} needs 4 bytes for its value but has ${room}`);
  switch (kind) {
    case 'csum_info':
      encodeLayout(CSUM, { [payloadKey]: val }, dv, v, 4, style);
      break;
    case 'vlan':
      encodeLayout(VLAN, { [payloadKey]: val }, dv, v, 4, style);
      break;
    case 'lso_info':
      encodeLayout(LSO, { [payloadKey]: val }, dv, v, 4, style);
      break;
    case 'hash_info':
      dv.setUint32(v, getNum(ppi, payloadKey, 'PPI'), true);
      break;
    case 'pktinfo_id':
      encodeLayout(pktinfoId, asObject(val, 'pktinfo_id'), dv, v, 4, style);
      break;
    case 'payload': {
      const bytes = getBytes(ppi, payloadKey, 'PPI') ?? new Uint8Array(0);
      if (bytes.length > room) throw malformed(`PPI payload of ${bytes.length} bytes does not fit in ${room}`);
      new Uint8Array(dv.buffer, dv.byteOffset + v, bytes.length).set(bytes);
      break;
    }
  }
  return size;
}

export function ppiListSize(list: readonly Value[], style: Style): number {
  return list.reduce<number>((s, p, i) => s + ppiSize(asObject(p, `per_pkt_info[${i}]`), style), 0);
}

export function encodePpiList(list: readonly Value[], dv: DataView, at: number, style: Style): number {
  let p = at;
  list.forEach((ppi, i) => {
    p += encodePpi(asObject(ppi, `per_pkt_info[${i}]`), dv, p, style);
  });
  return p - at;
}
