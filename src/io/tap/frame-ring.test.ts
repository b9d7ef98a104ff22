import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { ConfigError } from '../../core/index.js';
import { createFrameRingBuffer, FrameRing, RingStat } from './frame-ring.js';

/** Frame i is len bytes of (i + k) & 0xff, so a reordering, overlap or tear shows up as a byte mismatch. */
function fill(b: Uint8Array, at: number, len: number, i: number): void {
  for (let k = 0; k < len; k++) b[at + k] = (i + k) & 0xff;
}
function check(b: Uint8Array, at: number, len: number, i: number): boolean {
  for (let k = 0; k < len; k++) if (b[at + k] !== ((i + k) & 0xff)) return false;
  return true;
}

describe('FrameRing', () => {
  test('createFrameRingBuffer() rejects a capacity that is not a power of two', () => {
    expect(() => createFrameRingBuffer(5000)).toThrow(ConfigError);
  });

  test.prop([fc.array(fc.tuple(fc.integer({ min: 0, max: 1600 }), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 300 })])(
    'frames come out in order and intact through wraps, whatever the interleaving',
    (plan) => {
      const sab = createFrameRingBuffer(4096);
      const prod = new FrameRing(sab);
      const cons = new FrameRing(sab); // separate objects, as in two threads
      let sent = 0;
      let got = 0;
      let bytes = 0;
      for (const [len, drain] of plan) {
        const at = prod.reserve(1600); // the RX worker reserves the maximum, then commits the real length
        if (at >= 0) {
          fill(prod.bytes, at, len, sent);
          prod.commit(len);
          sent++;
          bytes += len;
        }
        for (let d = 0; d < drain; d++) {
          const r = cons.peek();
          if (r < 0) break;
          expect(check(cons.bytes, r, cons.peekLen, got)).toBe(true);
          got++;
          cons.release();
        }
        cons.publishTail();
      }
      for (let r = cons.peek(); r >= 0; r = cons.peek()) {
        expect(check(cons.bytes, r, cons.peekLen, got)).toBe(true);
        got++;
        cons.release();
      }
      expect(got).toBe(sent);
      expect(prod.stat(RingStat.Frames)).toBe(sent);
      expect(prod.stat(RingStat.Bytes)).toBe(bytes);
    },
  );

  test('reserve() refuses when full until the consumer publishes its tail', () => {
    const sab = createFrameRingBuffer(4096);
    const p = new FrameRing(sab);
    const c = new FrameRing(sab);
    let n = 0;
    while (p.reserve(1000) >= 0) {
      p.commit(1000);
      n++;
    }
    expect(n).toBe(4); // 4 × 1008 B records fit in 4096
    expect(c.peek()).toBeGreaterThan(0);
    c.release();
    expect(p.reserve(1000)).toBe(-1); // released but not yet published
    c.publishTail();
    expect(p.reserve(1000)).toBeGreaterThan(0);
  });

  test('waitDataAsync() resolves when a record is committed and stop() wakes a sleeper', async () => {
    const sab = createFrameRingBuffer(4096);
    const p = new FrameRing(sab);
    const c = new FrameRing(sab);
    const w = c.waitDataAsync(5000);
    p.reserve(10);
    p.commit(10);
    expect(await w).toBe(true);
    c.peek();
    c.release();
    expect(p.stat(RingStat.Frames)).toBe(1); // the waiting flags do not overlap the counters
    const w2 = c.waitDataAsync(5000);
    p.stop();
    expect(await w2).toBe(false);
    expect(c.waitData(5000)).toBe(false); // stopped: returns at once
  });
});
