/**
 * The value model shared by the declarative codecs. Two styles of the same tree:
 * - `record`: exactly the shape of a shared/vectors/wire.jsonl record (kernel snake_case names,
 *   64-bit values as decimal strings, byte arrays as lowercase hex) — used by the vectors and the CLI;
 * - `repr`: the control-path face (camelCase names, 64-bit values as bigint, bytes as Uint8Array).
 */
import { bytesToHex, hexToBytes, malformed } from '../bytes.js';

export type Value = number | string | bigint | Uint8Array | readonly Value[] | ValueObject;
export interface ValueObject {
  readonly [key: string]: Value;
}
export type MutableObject = { [key: string]: Value };

export interface Style {
  readonly camel: boolean;
}
export const RECORD: Style = Object.freeze({ camel: false });
export const REPR: Style = Object.freeze({ camel: true });

const camelCache = new Map<string, string>();
/** Kernel name → camelCase (`send_buf_section_index` → `sendBufSectionIndex`). */
export function camel(snake: string): string {
  let c = camelCache.get(snake);
  if (c === undefined) {
    c = snake.replace(/_([a-z0-9])/g, (_m, ch: string) => ch.toUpperCase());
    camelCache.set(snake, c);
  }
  return c;
}

export function key(style: Style, snake: string): string {
  return style.camel ? camel(snake) : snake;
}

export function isObject(v: Value | undefined): v is ValueObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export function u64Value(style: Style, v: bigint): Value {
  return style.camel ? v : v.toString();
}

export function bytesValue(style: Style, u8: Uint8Array): Value {
  return style.camel ? u8.slice() : bytesToHex(u8);
}

// ---- reading values back for encoding: absent means zero (vectors README rule 8) ----

export function getNum(obj: ValueObject, k: string, where: string): number {
  const v = obj[k];
  if (v === undefined) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  if (typeof v === 'string' && /^\d+$/.test(v) && Number(v) <= 0xffffffff) return Number(v);
  throw malformed(`${where}.${k}: expected an unsigned integer, got ${describe(v)}`);
}

export function getBig(obj: ValueObject, k: string, where: string): bigint {
  const v = obj[k];
  if (v === undefined) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw malformed(`${where}.${k}: expected a 64-bit unsigned integer (decimal string), got ${describe(v)}`);
}

export function getBytes(obj: ValueObject, k: string, where: string): Uint8Array | undefined {
  const v = obj[k];
  if (v === undefined) return undefined;
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return hexToBytes(v);
  throw malformed(`${where}.${k}: expected bytes (hex string), got ${describe(v)}`);
}

export function getObj(obj: ValueObject, k: string, where: string): ValueObject | undefined {
  const v = obj[k];
  if (v === undefined) return undefined;
  if (isObject(v)) return v;
  throw malformed(`${where}.${k}: expected an object, got ${describe(v)}`);
}

export function getList(obj: ValueObject, k: string, where: string): readonly Value[] | undefined {
  const v = obj[k];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v as readonly Value[];
  throw malformed(`${where}.${k}: expected a list, got ${describe(v)}`);
}

export function asObject(v: Value, where: string): ValueObject {
  if (isObject(v)) return v;
  throw malformed(`${where}: expected an object, got ${describe(v)}`);
}

function describe(v: Value): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'bigint') return `${v}n`;
  return JSON.stringify(v)?.slice(0, 40) ?? String(v);
}
