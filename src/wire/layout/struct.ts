/**
 * A small declarative layout engine: a struct is a list of fields at fixed offsets. Fixed layouts
 * (every NVSP body, RNDIS headers, NDIS objects, VMBus headers) are written once as tables; the
 * variable parts (range lists, PPI lists, offset-located buffers) are glued on by hand in
 * records/. A field is decoded only when it lies wholly inside `limit`, which gives the
 * "truncated objects list only the fields inside size" rule (vectors README rule 6) for free.
 */
import { malformed, need, writeU64 } from '../bytes.js';
import {
  type MutableObject,
  type Style,
  type Value,
  type ValueObject,
  getBig,
  getList,
  getNum,
  getObj,
  key,
  u64Value,
} from './value.js';

export interface Bit {
  readonly name: string;
  readonly shift: number;
  readonly width: number;
}
/** One view of a bitfield union; `name` null means its bits sit beside `value` (no nesting). */
export interface BitView {
  readonly name: string | null;
  readonly bits: readonly Bit[];
}

export type Field =
  | { readonly kind: 'u8' | 'u16' | 'u32' | 'u64'; readonly name: string; readonly at: number }
  | { readonly kind: 'u16[]'; readonly name: string; readonly at: number; readonly count: number }
  | { readonly kind: 'struct'; readonly name: string; readonly at: number; readonly layout: Layout }
  | {
      readonly kind: 'bits';
      /** Key of the union's object; null flattens the (single) view into the parent. */
      readonly name: string | null;
      readonly at: number;
      readonly bytes: 2 | 4 | 8;
      readonly views: readonly BitView[];
      /** Key of the whole container value ('value' or 'data'), or null when none is shown. */
      readonly valueKey: string | null;
      /** Picks a view from the container value when the caller gave no hint. */
      readonly choose?: (v: number) => number;
    };

export interface Layout {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly Field[];
}

/** Per-decode choices of which bitfield view to show, keyed by the union's field name. */
export type ViewHints = ReadonlyMap<string, string>;

export function fieldSize(f: Field): number {
  switch (f.kind) {
    case 'u8':
      return 1;
    case 'u16':
      return 2;
    case 'u32':
      return 4;
    case 'u64':
      return 8;
    case 'u16[]':
      return 2 * f.count;
    case 'struct':
      return f.layout.size;
    case 'bits':
      return f.bytes;
  }
}

function readContainer(dv: DataView, at: number, bytes: 2 | 4 | 8): number {
  // Bitfields in these structs never reach past bit 31, so the low word carries them all.
  return bytes === 2 ? dv.getUint16(at, true) : dv.getUint32(at, true);
}

/**
 * Decodes `layout` from dv[at..]; fields that end past `limit` (relative to at) are left out.
 * Throws TRUNCATED if the buffer holds fewer than `limit` bytes from at.
 */
export function decodeLayout(
  layout: Layout,
  dv: DataView,
  at: number,
  limit: number,
  style: Style,
  hints?: ViewHints,
): MutableObject {
  need(at, limit, dv.byteLength, layout.name);
  const out: MutableObject = {};
  for (const f of layout.fields) {
    const size = fieldSize(f);
    if (f.at + size > limit) continue;
    const p = at + f.at;
    switch (f.kind) {
      case 'u8':
        out[key(style, f.name)] = dv.getUint8(p);
        break;
      case 'u16':
        out[key(style, f.name)] = dv.getUint16(p, true);
        break;
      case 'u32':
        out[key(style, f.name)] = dv.getUint32(p, true);
        break;
      case 'u64':
        out[key(style, f.name)] = u64Value(style, dv.getBigUint64(p, true));
        break;
      case 'u16[]': {
        const list: number[] = [];
        for (let i = 0; i < f.count; i++) list.push(dv.getUint16(p + 2 * i, true));
        out[key(style, f.name)] = list;
        break;
      }
      case 'struct':
        out[key(style, f.name)] = decodeLayout(f.layout, dv, p, f.layout.size, style, hints);
        break;
      case 'bits':
        decodeBits(f, dv, p, style, out, hints);
        break;
    }
  }
  return out;
}

function decodeBits(
  f: Extract<Field, { kind: 'bits' }>,
  dv: DataView,
  p: number,
  style: Style,
  out: MutableObject,
  hints: ViewHints | undefined,
): void {
  const v = readContainer(dv, p, f.bytes);
  const hint = f.name !== null ? hints?.get(f.name) : undefined;
  let vi = hint !== undefined ? f.views.findIndex((x) => x.name === hint) : -1;
  if (vi < 0) vi = f.choose ? f.choose(v) : 0;
  const view = f.views[vi]!;
  const bits: MutableObject = {};
  for (const b of view.bits) bits[key(style, b.name)] = Math.floor(v / 2 ** b.shift) % 2 ** b.width;
  const target: MutableObject = f.name === null ? out : {};
  if (view.name === null) Object.assign(target, bits);
  else target[key(style, view.name)] = bits;
  if (f.valueKey !== null) {
    target[key(style, f.valueKey)] = f.bytes === 8 ? u64Value(style, dv.getBigUint64(p, true)) : v;
  }
  if (f.name !== null) out[key(style, f.name)] = target;
}

/** Encodes `obj` into dv[at..at+limit): fields that end past `limit` must be absent or zero. */
export function encodeLayout(layout: Layout, obj: ValueObject, dv: DataView, at: number, limit: number, style: Style): void {
  need(at, limit, dv.byteLength, layout.name);
  const known = new Set<string>();
  for (const f of layout.fields) {
    const size = fieldSize(f);
    const fits = f.at + size <= limit;
    const p = at + f.at;
    if (f.kind === 'bits') {
      encodeBits(f, obj, dv, p, fits, style, known, layout.name);
      continue;
    }
    const k = key(style, f.name);
    known.add(k);
    if (obj[k] === undefined) continue;
    if (!fits) {
      if (isZero(obj[k])) continue;
      throw malformed(`${layout.name}.${f.name} lies past the ${limit}-byte size of this object`);
    }
    switch (f.kind) {
      case 'u8':
        dv.setUint8(p, checkWidth(getNum(obj, k, layout.name), 0xff, layout.name, f.name));
        break;
      case 'u16':
        dv.setUint16(p, checkWidth(getNum(obj, k, layout.name), 0xffff, layout.name, f.name), true);
        break;
      case 'u32':
        dv.setUint32(p, getNum(obj, k, layout.name), true);
        break;
      case 'u64':
        writeU64(dv, p, getBig(obj, k, layout.name));
        break;
      case 'u16[]': {
        const list = getList(obj, k, layout.name) ?? [];
        if (list.length > f.count) throw malformed(`${layout.name}.${f.name} has ${list.length} entries; at most ${f.count} fit`);
        list.forEach((_, i) => dv.setUint16(p + 2 * i, checkWidth(getNum(list as unknown as ValueObject, String(i), layout.name), 0xffff, layout.name, f.name), true));
        break;
      }
      case 'struct':
        encodeLayout(f.layout, getObj(obj, k, layout.name) ?? {}, dv, p, f.layout.size, style);
        break;
    }
  }
  for (const k of Object.keys(obj)) {
    if (!known.has(k)) throw malformed(`${layout.name} has no field "${k}"`);
  }
}

function encodeBits(
  f: Extract<Field, { kind: 'bits' }>,
  parent: ValueObject,
  dv: DataView,
  p: number,
  fits: boolean,
  style: Style,
  known: Set<string>,
  where: string,
): void {
  let src: ValueObject | undefined;
  if (f.name === null) src = parent;
  else {
    known.add(key(style, f.name));
    src = getObj(parent, key(style, f.name), where);
  }
  if (src === undefined) return;
  const w = `${where}.${f.name ?? ''}`;
  // Start from the whole value if given, then lay each named bit group over it.
  let v = 0;
  const vk = f.valueKey !== null ? key(style, f.valueKey) : null;
  if (vk !== null && src[vk] !== undefined) {
    v = f.bytes === 8 ? Number(getBig(src, vk, w) & 0xffffffffn) : getNum(src, vk, w);
  }
  const ownKeys = new Set<string>(vk !== null ? [vk] : []);
  for (const view of f.views) {
    const from = view.name === null ? src : getObj(src, key(style, view.name), w);
    if (view.name !== null) ownKeys.add(key(style, view.name));
    if (from === undefined) continue;
    for (const b of view.bits) {
      const bk = key(style, b.name);
      ownKeys.add(bk);
      if (f.name === null) known.add(bk);
      if (from[bk] === undefined) continue;
      const bv = getNum(from, bk, w);
      if (bv >= 2 ** b.width) throw malformed(`${w}.${b.name} = ${bv} does not fit in ${b.width} bits`);
      const lo = v % 2 ** b.shift;
      const hi = Math.floor(v / 2 ** (b.shift + b.width));
      v = hi * 2 ** (b.shift + b.width) + bv * 2 ** b.shift + lo;
    }
  }
  if (f.name !== null) {
    for (const k of Object.keys(src)) if (!ownKeys.has(k)) throw malformed(`${w} has no field "${k}"`);
  }
  if (!fits) {
    if (v === 0) return;
    throw malformed(`${w} lies past the size of this object`);
  }
  if (f.bytes === 2) dv.setUint16(p, v, true);
  else if (f.bytes === 4) dv.setUint32(p, v >>> 0, true);
  else {
    const hiWord = vk !== null && src[vk] !== undefined ? getBig(src, vk, w) >> 32n : 0n;
    writeU64(dv, p, (hiWord << 32n) | BigInt(v >>> 0));
  }
}

function checkWidth(v: number, max: number, where: string, name: string): number {
  if (v > max) throw malformed(`${where}.${name} = ${v} does not fit in ${max === 0xff ? 8 : 16} bits`);
  return v;
}

function isZero(v: Value | undefined): boolean {
  return v === 0 || v === '0' || v === 0n;
}

/** Helper to write layouts compactly: `u32('status', 4)`. */
export const u8 = (name: string, at: number): Field => ({ kind: 'u8', name, at });
export const u16 = (name: string, at: number): Field => ({ kind: 'u16', name, at });
export const u32 = (name: string, at: number): Field => ({ kind: 'u32', name, at });
export const u64 = (name: string, at: number): Field => ({ kind: 'u64', name, at });
export const struct = (name: string, at: number, layout: Layout): Field => ({ kind: 'struct', name, at, layout });
export function layout(name: string, size: number, fields: readonly Field[]): Layout {
  return Object.freeze({ name, size, fields: Object.freeze(fields.slice()) });
}
/** u32 fields named in order from `at`, 4 bytes apart. */
export function u32s(at: number, ...names: string[]): Field[] {
  return names.map((n, i) => u32(n, at + 4 * i));
}
