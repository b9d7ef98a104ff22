// Every record of shared/vectors/wire.jsonl: decode(hex) gives the record's fields and
// encode(fields) gives the hex back, byte for byte. New records are picked up without code changes.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bytesToHex, hexToBytes } from './bytes.js';
import type { Value, ValueObject } from './layout/value.js';
import type { Layer, Pointed } from './records/codec.js';
import { decodeStruct, encodePointed, encodeStruct } from './records/registry.js';

interface VectorRecord {
  readonly id: string;
  readonly layer: Layer;
  readonly message: string;
  readonly fields: ValueObject;
  readonly size: number;
  readonly hex: string;
}

const SHARED = resolve(import.meta.dirname, '../../../shared/vectors/wire.jsonl');
const VENDORED = resolve(import.meta.dirname, '../../test/vectors/wire.jsonl');

function load(path: string): VectorRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as VectorRecord);
}

const records = load(existsSync(SHARED) ? SHARED : VENDORED);

/** "A field absent from fields is zero" (vectors README rule 8): drop zero leaves before comparing. */
function normalize(v: Value): Value | undefined {
  if (v === 0 || v === '0') return undefined;
  if (Array.isArray(v)) return (v as readonly Value[]).map((x) => normalize(x) ?? 0);
  if (typeof v === 'object' && !(v instanceof Uint8Array) && typeof v !== 'bigint') {
    const out: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v as ValueObject)) {
      const n = normalize(x);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

/** Which bitfield-union view each record prints (rule 5): a presentation choice, not a value. */
function viewHints(v: Value, out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(v)) for (const x of v as readonly Value[]) viewHints(x, out);
  else if (typeof v === 'object' && !(v instanceof Uint8Array) && typeof v !== 'bigint') {
    for (const [k, x] of Object.entries(v as ValueObject)) {
      if ((k === 'csum_info' || k === 'lso_info') && typeof x === 'object') {
        const view = Object.keys(x as ValueObject).find((n) => n !== 'value');
        if (view) out.set(k, view);
      }
      viewHints(x, out);
    }
  }
  return out;
}

function pointedOf(fields: ValueObject): Pointed {
  const d = fields['described_bytes'];
  const r = fields['range_bytes'];
  return {
    ...(typeof d === 'string' ? { described: hexToBytes(d) } : {}),
    ...(Array.isArray(r) ? { ranges: (r as string[]).map(hexToBytes) } : {}),
  };
}

describe('golden vectors', () => {
  test('the shared and vendored copies of wire.jsonl are identical when both exist', () => {
    if (!existsSync(SHARED) || !existsSync(VENDORED)) return;
    expect(readFileSync(VENDORED, 'utf8')).toBe(readFileSync(SHARED, 'utf8'));
  });

  test('there are vectors for every layer', () => {
    expect(new Set(records.map((r) => r.layer))).toEqual(new Set(['vmbus', 'nvsp', 'rndis', 'ppi', 'ndis', 'composite']));
  });

  describe.each(records.map((r) => [r.id, r] as const))('%s', (_id, r) => {
    test('decodes to the record fields', () => {
      const bytes = hexToBytes(r.hex);
      expect(bytes.length).toBe(r.size);
      const got = decodeStruct(r.message, bytes, { partial: false, hints: viewHints(r.fields), pointed: pointedOf(r.fields) }, r.layer);
      expect(got.layer).toBe(r.layer);
      expect(normalize(got.fields)).toEqual(normalize(r.fields));
    });

    test('encodes to the record hex byte for byte', () => {
      expect(bytesToHex(encodeStruct(r.message, r.fields, r.layer))).toBe(r.hex);
      const p = encodePointed(r.message, r.fields, r.layer);
      const want = pointedOf(r.fields);
      if (want.described) expect(bytesToHex(p.described ?? new Uint8Array(0))).toBe(bytesToHex(want.described));
      if (want.ranges) expect((p.ranges ?? []).map(bytesToHex)).toEqual(want.ranges.map(bytesToHex));
    });
  });
});
