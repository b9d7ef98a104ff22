// The VF testbed's until(): a promise's rejection reaches the caller who awaits; one that rejects
// after the testbed gave up (TIMEOUT after 200 000 turns) is counted and its error kept.
import { describe, expect, test } from 'vitest';
import { VfTestbed } from './testbed.js';

describe('VfTestbed.until()', () => {
  test('rethrows a rejection to the caller; keeps one that comes after the TIMEOUT', async () => {
    const tb = new VfTestbed();
    const err = new Error('probe failed');
    await expect(tb.until(Promise.reject(err), 'probe')).rejects.toBe(err);
    let reject!: (e: unknown) => void;
    const late = new Promise<never>((_, rej) => (reject = rej));
    await expect(tb.until(late, 'remove')).rejects.toMatchObject({ code: 'TIMEOUT' });
    const lateErr = new Error('remove failed after the wait ended');
    reject(lateErr);
    await new Promise((r) => setImmediate(r));
    expect([tb.abandoned.count, tb.abandoned.last]).toEqual([1, lateErr]);
  });
});
