import { describe, expect, test } from 'vitest';
import { newVmbusCounters } from './counters.js';
import { Requestor, RQST_ID_NO_RESPONSE_HI, RQST_ID_NO_RESPONSE_LO } from './requestor.js';

const bad = expect.objectContaining({ code: 'BAD_TRANSACTION' });

describe('Requestor', () => {
  test('ids are slot + 1, never 0, and map back to the cookie', () => {
    const r = new Requestor(4, newVmbusCounters());
    expect([r.alloc(10), r.alloc(11), r.alloc(12), r.alloc(13)]).toEqual([1, 2, 3, 4]);
    expect(r.alloc(14)).toBe(0); // full: "try again"
    expect(r.complete(3, 0)).toBe(12);
    expect(r.outstanding).toBe(3);
  });

  test('rejects unknown, duplicate, stale and fire-and-forget ids with BAD_TRANSACTION and counts them', () => {
    const c = newVmbusCounters();
    const r = new Requestor(4, c);
    const id = r.alloc(7);
    r.alloc(8);
    expect(() => r.complete(0, 0)).toThrow(bad); // 0 is never an id
    expect(() => r.complete(5, 0)).toThrow(bad); // past the table
    expect(() => r.complete(id, 1)).toThrow(bad); // upper half set
    expect(() => r.complete(RQST_ID_NO_RESPONSE_LO, RQST_ID_NO_RESPONSE_HI)).toThrow(bad);
    expect(() => r.complete(4, 0)).toThrow(/unknown/); // never allocated
    expect(r.complete(id, 0)).toBe(7);
    expect(() => r.complete(id, 0)).toThrow(/duplicate/);
    const cookies: number[] = [];
    expect(r.reclaimAll((k) => cookies.push(k))).toBe(1);
    expect(cookies).toEqual([8]);
    expect(() => r.complete(2, 0)).toThrow(/stale/);
    expect(c.get('bad_transaction')).toBe(7);
    expect(c.get('reclaimed_ids')).toBe(1);
  });

  test('freed slots are reused first in, first out', () => {
    const r = new Requestor(3, newVmbusCounters());
    const a = r.alloc(1);
    r.complete(a, 0);
    expect(r.alloc(2)).toBe(2);
    expect(r.alloc(3)).toBe(3);
    expect(r.alloc(4)).toBe(1);
  });
});
