// The single-thread pump waits for promises it drives: what a promise rejects with reaches the
// caller who awaits, and a rejection after the pump gave up (TIMEOUT) is counted and kept.
import { describe, expect, test } from 'vitest';
import { Pump } from './pump.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Pump.until()', () => {
  test('returns the value, or rethrows the rejection to the caller', async () => {
    const pump = new Pump(1000);
    const ok = deferred<number>();
    setImmediate(() => ok.resolve(7));
    expect(await pump.until(ok.promise, 'ok')).toBe(7);
    const bad = deferred<number>();
    const err = new Error('device is detached');
    setImmediate(() => bad.reject(err));
    await expect(pump.until(bad.promise, 'bad')).rejects.toBe(err);
    expect(pump.abandoned.count).toBe(0);
  });

  test('a promise that rejects after the pump gave up with TIMEOUT is counted and its error kept', async () => {
    const pump = new Pump(5);
    const late = deferred<number>();
    await expect(pump.until(late.promise, 'late')).rejects.toMatchObject({ code: 'TIMEOUT' });
    const err = new Error('rejected after the wait ended');
    late.reject(err);
    await new Promise((r) => setImmediate(r));
    expect([pump.abandoned.count, pump.abandoned.last]).toEqual([1, err]);
    // One that resolves late is nothing to record.
    const fine = deferred<number>();
    await expect(pump.until(fine.promise, 'fine')).rejects.toMatchObject({ code: 'TIMEOUT' });
    fine.resolve(1);
    await new Promise((r) => setImmediate(r));
    expect(pump.abandoned.count).toBe(1);
  });
});
