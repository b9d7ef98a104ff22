import { randomFillSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { copyBytes } from './copy.js';

/** Reference: what copyBytes must produce, byte by byte. */
function expected(src: Uint8Array, so: number, dst: Uint8Array, dOff: number, len: number): Uint8Array {
  const out = dst.slice();
  for (let i = 0; i < len; i++) out[dOff + i] = src[so + i]!;
  return out;
}

describe('copyBytes', () => {
  test('every length 0..300 at every alignment of source and destination, shared and plain buffers, equals a byte loop', () => {
    const src = new Uint8Array(new SharedArrayBuffer(1024));
    randomFillSync(src);
    for (const dst of [new Uint8Array(new SharedArrayBuffer(1024)), new Uint8Array(1024)]) {
      for (const so of [0, 1, 3, 4, 7, 8, 13]) {
        for (const dOff of [0, 1, 5, 8, 13, 16]) {
          for (let len = 0; len <= 300; len++) {
            dst.fill(0xee);
            const want = expected(src, so, dst, dOff, len);
            copyBytes(src, so, dst, dOff, len);
            if (!Buffer.from(dst).equals(want)) expect.fail(`so ${so} dOff ${dOff} len ${len}`);
          }
        }
      }
    }
  });

  test('within one buffer (two views of it, shared and plain): every length 0..300 at every alignment equals a byte loop', () => {
    for (const buf of [new SharedArrayBuffer(2048), new ArrayBuffer(2048)]) {
      const all = new Uint8Array(buf);
      const src = new Uint8Array(buf, 3, 1000);
      const dst = new Uint8Array(buf, 1024, 1024);
      for (const so of [0, 1, 4, 7, 8, 13]) {
        for (const dOff of [0, 1, 5, 8, 16]) {
          for (let len = 0; len <= 300; len++) {
            randomFillSync(all);
            const want = expected(src, so, dst, dOff, len);
            copyBytes(src, so, dst, dOff, len);
            if (!Buffer.from(dst).equals(want)) expect.fail(`${buf.constructor.name} so ${so} dOff ${dOff} len ${len}`);
          }
        }
      }
      randomFillSync(all);
      const big = new Uint8Array(buf, 1, 600);
      const want = expected(all, 1, all, 1200, 600);
      copyBytes(big, 0, all, 1200, 600);
      expect(Buffer.from(all).equals(want)).toBe(true);
    }
  });

  test('subarrays with odd byteOffsets, lengths up to 70 000 (word loop and native copy)', () => {
    const sab = new SharedArrayBuffer(200_000);
    const whole = new Uint8Array(sab);
    randomFillSync(whole);
    const src = whole.subarray(3, 90_003);
    const dst = new Uint8Array(new SharedArrayBuffer(100_000)).subarray(11);
    for (const len of [65, 1514, 9000, 16383, 16384, 65536, 70_000]) {
      for (const [so, dOff] of [[5, 5], [5, 13], [0, 4]] as const) {
        dst.fill(0);
        const want = expected(src, so, dst, dOff, len);
        copyBytes(src, so, dst, dOff, len);
        expect(Buffer.from(dst).equals(want), `len ${len} so ${so} dOff ${dOff}`).toBe(true);
      }
    }
  });

  test('every NaN bit pattern survives the 8-byte word copy, before and after the optimising compiler', () => {
    const src = new Uint8Array(new SharedArrayBuffer(4096));
    const dv = new DataView(src.buffer);
    const dst = new Uint8Array(new SharedArrayBuffer(4096));
    for (let round = 0; round < 3000; round++) {
      randomFillSync(src);
      // Quiet and signalling NaNs, both signs, payloads from the round: words V8 could canonicalise.
      for (let k = 0; k < 512; k += 2) {
        const hi = (k & 2 ? 0xfff00000 : 0x7ff00000) | (k & 4 ? 0x80000 : 0) | ((round * 7919 + k) & 0x7ffff);
        dv.setUint32(k * 8 + 4, hi >>> 0, true);
        if ((hi & 0xfffff) === 0) dv.setUint32(k * 8, k + 1, true);
      }
      copyBytes(src, 8, dst, 8, 4000);
      if (!Buffer.from(dst.buffer, 8, 4000).equals(Buffer.from(src.buffer, 8, 4000))) expect.fail(`round ${round}: a word changed`);
    }
  });

  test('forty buffers, each copied from and to twice, copy correctly (one word view per buffer)', () => {
    const from = Array.from({ length: 40 }, (_, i) => new Uint8Array(new SharedArrayBuffer(2048)).fill(i));
    const to = Array.from({ length: 40 }, () => new Uint8Array(new SharedArrayBuffer(2048)).fill(0xff));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 40; i++) {
        const t = to[(i * 7) % 40]!;
        copyBytes(from[i]!, 8, t, 8, 1500);
        expect([t[7], t[8], t[1507], t[1508]]).toEqual([0xff, i, i, 0xff]);
      }
    }
  });

  test('a buffer that grows after its first copy (resizable / growable) still copies every byte', () => {
    // The ES2024 constructors and resize()/grow() (Node 20 has them; the project's TypeScript lib does not declare them).
    type Sized = new (n: number, o: { maxByteLength: number }) => ArrayBufferLike;
    const make = (C: unknown): ArrayBufferLike => new (C as Sized)(1024, { maxByteLength: 8192 });
    for (const ab of [make(ArrayBuffer), make(SharedArrayBuffer)]) {
      const src = new Uint8Array(ab); // length-tracking
      const dst = new Uint8Array(8192);
      src.fill(1);
      copyBytes(src, 0, dst, 0, 512); // makes the buffer's word view over its first 1024 bytes
      const g = ab as { resize?: (n: number) => void; grow?: (n: number) => void };
      if (g.resize) g.resize(4096);
      else g.grow!(4096);
      expect(src.length).toBe(4096);
      src.fill(5);
      copyBytes(src, 2048, dst, 0, 1000); // words past the old end
      expect(dst.subarray(0, 1000).every((b) => b === 5)).toBe(true);
      copyBytes(dst, 0, src, 3000, 1000); // and as the destination
      expect(src.subarray(3000, 4000).every((b) => b === 5)).toBe(true);
    }
  });

  test('a NaN offset never reaches outside the views: the same bytes as Buffer.prototype.copy (NaN as 0)', () => {
    for (const shared of [false, true]) {
      for (const [so, dOff, within] of [[0, NaN, false], [NaN, 8, false], [0, NaN, true], [NaN, 8, true]] as const) {
        const mk = (n: number): Uint8Array => (shared ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n));
        const all = mk(512).fill(9, 0, 64); // the word loop indexes the whole buffer: index 0 is all[0]
        const src = within ? all : mk(256).fill(7);
        const dst = all.subarray(64, 320);
        const refAll = all.slice();
        const refSrc = within ? refAll : src.slice();
        Buffer.prototype.copy.call(refSrc, refAll.subarray(64, 320), dOff, so, so + 100);
        copyBytes(src, so, dst, dOff, 100);
        expect([...all]).toEqual([...refAll]);
      }
    }
  });
});
