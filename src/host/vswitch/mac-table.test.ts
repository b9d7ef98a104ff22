import { describe, expect, test } from 'vitest';
import { MacTable, macHiAt, macHiOf, macLoAt, macLoOf } from './mac-table.js';
import { macAt, parseMac } from './port.js';

/** A small deterministic generator (xorshift32), so a failure replays. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function contents(t: MacTable<string>): Map<number, string> {
  const out = new Map<number, string>();
  t.forEach((mac, v) => out.set(mac, v));
  return out;
}

describe('MacTable', () => {
  test('the halves read from a frame are the halves of macAt()’s number, and forEach gives the number back', () => {
    for (const s of ['00:15:5d:00:00:01', 'ff:ff:ff:ff:ff:ff', '80:00:00:80:00:00', '01:00:5e:7f:ff:fa', '00:00:00:00:00:00']) {
      const b = parseMac(s);
      const n = macAt(b, 0);
      expect([macHiAt(b, 0), macLoAt(b, 0)]).toEqual([macHiOf(n), macLoOf(n)]);
      const t = new MacTable<string>(4);
      t.set(macHiAt(b, 0), macLoAt(b, 0), s, 0);
      expect(contents(t)).toEqual(new Map([[n, s]]));
    }
  });

  test.each([
    [3000, 4000],
    [7, 24], // 16 slots: runs often wrap past the last slot
  ])('60 000 random sets, deletes and port removals agree with a Map (max %i, %i MACs): growth, collisions, wrapped runs', (max, distinct) => {
    const next = rng(0x1234567);
    const t = new MacTable<string>(max);
    const model = new Map<number, string>();
    const macs: number[] = [];
    // Few distinct high halves and clustered low ones, so runs collide.
    for (let i = 0; i < distinct; i++) macs.push((next() % 3) * 0x100000000 + ((next() % 5000) * 0x10001) % 0x100000000);
    for (let op = 0; op < 60_000; op++) {
      const mac = macs[next() % macs.length]!;
      const r = next() % 100;
      if (r < 60) {
        const v = `p${next() % 7}`;
        const ok = t.set(macHiOf(mac), macLoOf(mac), v, op);
        const fits = model.has(mac) || model.size < max;
        expect(ok).toBe(fits);
        if (fits) model.set(mac, v);
      } else if (r < 99) {
        expect(t.delete(macHiOf(mac), macLoOf(mac))).toBe(model.delete(mac));
      } else {
        const v = `p${next() % 7}`;
        t.deleteValue(v);
        for (const [k, x] of model) if (x === v) model.delete(k);
      }
      expect(t.size).toBe(model.size);
      if (op % 97 === 0) expect(contents(t)).toEqual(model);
    }
    for (const mac of macs) {
      const slot = t.find(macHiOf(mac), macLoOf(mac));
      expect(slot >= 0 ? t.valueAt(slot) : undefined).toBe(model.get(mac));
    }
    expect(contents(t)).toEqual(model);
  });

  test('a full table refuses a new MAC and still replaces a known one; seen times are kept per entry', () => {
    const t = new MacTable<string>(2);
    expect(t.set(0, 1, 'a', 10)).toBe(true);
    expect(t.set(0, 2, 'b', 20)).toBe(true);
    expect(t.set(0, 3, 'c', 30)).toBe(false);
    expect(t.find(0, 3)).toBe(-1);
    expect(t.set(0, 1, 'c', 40)).toBe(true);
    const s = t.find(0, 1);
    expect([t.valueAt(s), t.seenAt(s), t.seenAt(t.find(0, 2)), t.size]).toEqual(['c', 40, 20, 2]);
    expect(new MacTable<string>(0).set(0, 1, 'a', 0)).toBe(false);
  });

  test('deleteSeenBefore removes exactly the entries seen before the cutoff (backward shifts included)', () => {
    const t = new MacTable<number>(600);
    const model = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const lo = (i * 0x10000) | 0;
      t.set(i & 3, lo, i, i % 10);
      model.set((i & 3) * 0x100000000 + (lo >>> 0), i % 10);
    }
    expect(t.deleteSeenBefore(4)).toBe(240);
    for (const [mac, seen] of model) {
      const slot = t.find(macHiOf(mac), macLoOf(mac));
      expect(slot >= 0).toBe(seen >= 4);
      if (slot >= 0) expect(t.seenAt(slot)).toBe(seen);
    }
    expect(t.size).toBe(360);
  });
});
