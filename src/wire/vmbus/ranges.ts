/**
 * Range lists of VMBus packets (protocol.md §2.9, §2.10), control-path form. GPA ranges are
 * variable-size: each carries HVPFN_UP(offset + length) PFNs, and the next entry starts right
 * after the last PFN (vectors README rule 7).
 */
import { hvPfnUp, malformed, need, writeU64 } from '../bytes.js';
import { type Layout, decodeLayout, encodeLayout } from '../layout/struct.js';
import { type MutableObject, type Style, type Value, asObject, getBig, getList, getNum, key, u64Value } from '../layout/value.js';

/** Names of a GPA range's two u32 fields: `gpa_range` says byte_count/byte_offset, `hv_mpb_array` len/offset. */
export interface GpaNames {
  readonly len: string;
  readonly offset: string;
}
export const GPA_RANGE_NAMES: GpaNames = { len: 'byte_count', offset: 'byte_offset' };
export const MPB_NAMES: GpaNames = { len: 'len', offset: 'offset' };

/** Decodes one GPA range at `at`; returns the entry and the offset just past its last PFN. */
export function decodeGpaRange(dv: DataView, at: number, end: number, names: GpaNames, style: Style): [MutableObject, number] {
  need(at, 8, end, 'gpa range header');
  const len = dv.getUint32(at, true);
  const offset = dv.getUint32(at + 4, true);
  const npfn = hvPfnUp(offset + len);
  need(at + 8, 8 * npfn, end, `gpa range with HVPFN_UP(${offset}+${len}) = ${npfn} PFNs`);
  const pfns: Value[] = [];
  for (let i = 0; i < npfn; i++) pfns.push(u64Value(style, dv.getBigUint64(at + 8 + 8 * i, true)));
  return [{ [key(style, names.len)]: len, [key(style, names.offset)]: offset, [key(style, 'pfn_array')]: pfns }, at + 8 + 8 * npfn];
}

export function decodeGpaRanges(
  dv: DataView,
  at: number,
  end: number,
  count: number,
  names: GpaNames,
  style: Style,
): [MutableObject[], number] {
  const out: MutableObject[] = [];
  let p = at;
  for (let i = 0; i < count; i++) {
    const [r, next] = decodeGpaRange(dv, p, end, names, style);
    out.push(r);
    p = next;
  }
  return [out, p];
}

export function gpaRangeSize(range: Value, names: GpaNames, style: Style, where: string): number {
  const r = asObject(range, where);
  const pfns = getList(r, key(style, 'pfn_array'), where) ?? [];
  const want = hvPfnUp(getNum(r, key(style, names.offset), where) + getNum(r, key(style, names.len), where));
  if (pfns.length !== want) {
    throw malformed(`${where}: pfn_array has ${pfns.length} PFNs but HVPFN_UP(offset + length) = ${want}`);
  }
  return 8 + 8 * pfns.length;
}

/** Writes one GPA range at `at`; returns the offset past it. */
export function encodeGpaRange(dv: DataView, at: number, range: Value, names: GpaNames, style: Style, where: string): number {
  const size = gpaRangeSize(range, names, style, where);
  need(at, size, dv.byteLength, where);
  const r = asObject(range, where);
  dv.setUint32(at, getNum(r, key(style, names.len), where), true);
  dv.setUint32(at + 4, getNum(r, key(style, names.offset), where), true);
  const pfns = getList(r, key(style, 'pfn_array'), where) ?? [];
  pfns.forEach((_, i) => writeU64(dv, at + 8 + 8 * i, getBig(pfns as unknown as MutableObject, String(i), where)));
  return at + size;
}

/** Fixed-size entries (transfer-page ranges, page buffers, sections, pd_buf): count × layout.size. */
export function decodeFixedList(dv: DataView, at: number, end: number, count: number, entry: Layout, style: Style): MutableObject[] {
  need(at, count * entry.size, end, `${count} × ${entry.name}`);
  const out: MutableObject[] = [];
  for (let i = 0; i < count; i++) out.push(decodeLayout(entry, dv, at + i * entry.size, entry.size, style));
  return out;
}

export function encodeFixedList(dv: DataView, at: number, list: readonly Value[], entry: Layout, style: Style, where: string): void {
  list.forEach((e, i) => encodeLayout(entry, asObject(e, `${where}[${i}]`), dv, at + i * entry.size, entry.size, style));
}
