import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { hex, ipv6Bytes } from './_fixtures.js';
import {
  completeSeededChecksum,
  fillIpv4HeaderChecksum,
  fillL4Checksum,
  foldSum,
  internetChecksum,
  internetSum,
  updateChecksum16,
  updateChecksum32,
  verifyIpv4HeaderChecksum,
  verifyL4Checksum,
  writePseudoSeed,
} from './checksum.js';
import { arenaSum, checksumArena } from './checksum-simd.js';

const swap = (x: number): number => ((x >>> 8) | (x << 8)) & 0xffff;
const be = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/** Naive RFC 1071 sum, byte pairs, for property tests. */
function naiveSum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) {
    s += (b[off + i]! << 8) | (i + 1 < len ? b[off + i + 1]! : 0);
    if (s > 0x3fffffff) s = (s & 0xffff) + (s >>> 16); // stay inside the 32-bit operators
  }
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

describe('RFC 1071 §3 numerical examples (vectors.md §3.1)', () => {
  const b = hex('00 01 f2 03 f4 f5 f6 f7');
  test('the sum of 00 01 f2 03 f4 f5 f6 f7 is 0xddf2 and its checksum 0x220d', () => {
    expect(internetSum(b, 0, 8)).toBe(0xddf2);
    expect(internetChecksum(b, 0, 8)).toBe(0x220d);
  });
  test('a split at an odd boundary: 0xf201 + swapped 0xf0eb folds to 0xddf2', () => {
    expect(internetSum(b, 0, 3)).toBe(0xf201);
    expect(internetSum(b, 3, 5)).toBe(0xf0eb);
    expect(foldSum(0xf201 + swap(0xf0eb))).toBe(0xddf2);
  });
});

describe('IPv4 header checksums (vectors.md §3.2, §3.3)', () => {
  test.each([
    ['4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7', 0xb861],
    ['45 00 00 1e 01 02 62 03 1a 01 d5 6e 11 12 13 14 21 22 23 24', 0xd56e],
    ['45 00 00 18 00 00 40 00 40 01 d2 79 11 12 13 14 21 22 23 24', 0xd279],
  ])('%s has checksum %#x', (h, sum) => {
    const b = hex(h);
    expect(verifyIpv4HeaderChecksum(b, 0)).toBe(true);
    b[10] = 0xde;
    b[11] = 0xad;
    expect(verifyIpv4HeaderChecksum(b, 0)).toBe(false);
    fillIpv4HeaderChecksum(b, 0);
    expect(be(b, 10)).toBe(sum);
  });
  test('the odd-length example 95 ea d0 cc 7d 55 04 has checksum 0x17f3 (0xf317 little-endian)', () => {
    expect(internetChecksum(hex('95 ea d0 cc 7d 55 04'), 0, 7)).toBe(swap(0xf317));
  });
});

/** An IPv4 header (no options, checksum 0) with protocol and total length, then the L4 bytes. */
function v4(src: string, dst: string, proto: number, l4: Uint8Array): Uint8Array {
  const total = 20 + l4.length;
  const ip = [0x45, 0, total >> 8, total & 0xff, 0, 0, 0x40, 0, 64, proto, 0, 0, ...src.split('.').map(Number), ...dst.split('.').map(Number)];
  const out = new Uint8Array(total);
  out.set(ip);
  out.set(l4, 20);
  return out;
}

function v6(src: string, dst: string, next: number, l4: Uint8Array): Uint8Array {
  const ip = [0x60, 0, 0, 0, l4.length >> 8, l4.length & 0xff, next, 64, ...ipv6Bytes(src), ...ipv6Bytes(dst)];
  const out = new Uint8Array(40 + l4.length);
  out.set(ip);
  out.set(l4, 40);
  return out;
}

describe('TCP/UDP/ICMPv6 checksums with pseudo-headers (vectors.md §3.3, §3.4)', () => {
  const cases: readonly [string, boolean, string, string, number, string, number, number][] = [
    ['smoltcp UDP/IPv4', false, '192.168.1.1', '192.168.1.2', 17, 'bf 00 00 35 00 0c 12 4d aa 00 00 ff', 6, 0x124d],
    ['smoltcp TCP/IPv4 with options', false, '192.168.1.1', '192.168.1.2', 6, 'bf 00 00 50 01 23 45 67 89 ab cd ef 60 35 01 23 01 b6 02 01 03 03 0c 01 aa 00 00 ff', 16, 0x01b6],
    ['smoltcp TCP SYN/IPv4', false, '192.168.1.1', '192.168.1.2', 6, 'bf 00 00 50 01 23 45 67 00 00 00 00 50 02 01 23 7a 8d 00 00 aa 00 00 ff', 16, 0x7a8d],
    ['smoltcp ICMPv6 echo', true, 'fe80::1', 'fe80::2', 58, '80 00 19 b3 12 34 ab cd aa 00 00 ff', 2, 0x19b3],
    ['libpnet UDP/IPv4', false, '192.168.0.1', '192.168.0.199', 17, '30 39 d4 31 00 0c 91 78 74 65 73 74', 6, 0x9178],
    ['libpnet UDP/IPv6', true, '::1', '::1', 17, '30 39 d4 31 00 0c 13 90 74 65 73 74', 6, 0x1390],
  ];
  test.each(cases)('%s verifies and refills to the published value', (_, isV6, src, dst, proto, l4hex, at, sum) => {
    const l4 = hex(l4hex);
    const f = isV6 ? v6(src, dst, proto, l4) : v4(src, dst, proto, l4);
    const ipOff = 0;
    const l4Off = isV6 ? 40 : 20;
    expect(verifyL4Checksum(f, ipOff, isV6, proto, l4Off, l4.length)).toBe(true);
    f[l4Off + at] ^= 0x10;
    expect(verifyL4Checksum(f, ipOff, isV6, proto, l4Off, l4.length)).toBe(false);
    fillL4Checksum(f, ipOff, isV6, proto, l4Off, l4.length);
    expect(be(f, l4Off + at)).toBe(sum);
  });
  test('the smoltcp UDP bytes inside an IPv6 header need 0x989c, not 0x124d (vectors.md §3.3 caveat)', () => {
    const f = v6('fe80::1', 'fe80::2', 17, hex('bf 00 00 35 00 0c 12 4d aa 00 00 ff'));
    expect(verifyL4Checksum(f, 0, true, 17, 40, 12)).toBe(false);
    fillL4Checksum(f, 0, true, 17, 40, 12);
    expect(be(f, 46)).toBe(0x989c);
  });
  test('a UDP checksum that computes to 0 is sent as 0xffff (smoltcp test_zero_checksum)', () => {
    const f = v4('192.168.1.1', '192.168.1.2', 17, hex('00 01 7c 89 00 08 00 00'));
    fillL4Checksum(f, 0, false, 17, 20, 8);
    expect(be(f, 26)).toBe(0xffff);
    expect(verifyL4Checksum(f, 0, false, 17, 20, 8)).toBe(true);
  });
  test('a UDP/IPv4 checksum of 0 means omitted and verifies; UDP/IPv6 does not', () => {
    const l4 = hex('30 39 d4 31 00 0c 00 00 74 65 73 74');
    expect(verifyL4Checksum(v4('192.168.0.1', '192.168.0.199', 17, l4), 0, false, 17, 20, 12)).toBe(true);
    expect(verifyL4Checksum(v6('::1', '::1', 17, l4), 0, true, 17, 40, 12)).toBe(false);
  });
  test('a pseudo-header seed completed by the "host" gives the same checksum as a full fill', () => {
    const l4 = hex('30 39 d4 31 00 0c 00 00 74 65 73 74');
    const f = v6('::1', '::1', 17, l4);
    writePseudoSeed(f, 0, true, 17, 40, 12);
    completeSeededChecksum(f, 17, 40, 12);
    expect(be(f, 46)).toBe(0x1390);
  });
});

describe('Linux lib/checksum_kunit.c (vectors.md §3.5)', () => {
  const buf = hex(
    'ac d7 76 69 6e f2 93 2c 1f e0 de 86 8f 54 33 90 95 bf ff b9 ea 62 6e b5 d3 4f f5 60 50 5c c7 fa 6d 1a c7 f0 d2 2c 12 3d 88 e3 14 21 b1 5e 45 31',
  );
  // Little-endian csum_fold(csum_partial(buf[0..len), 0x2847aab)) for len 0..44.
  const expected = [
    0x82d0, 0x8224, 0xab23, 0xaaad, 0x41ad, 0x413f, 0x4f3e, 0x4eab, 0x22ab, 0x228c, 0x428b, 0x41ad, 0xbbac, 0xbb1d, 0x671d,
    0x66ea, 0xd6e9, 0xd654, 0x1754, 0x1655, 0x5d54, 0x5c6a, 0xfa69, 0xf9fb, 0x44fb, 0x4428, 0xf527, 0xf432, 0x9432, 0x93e2,
    0x37e2, 0x371b, 0x3d1a, 0x3cad, 0x22ad, 0x21e6, 0x31e5, 0x3113, 0x0513, 0x0501, 0xc800, 0xc778, 0xe477, 0xe463, 0xc363,
  ];
  // In network order the values are byte-swapped and the init sum is 0x8402ab7a (vectors.md §3.5).
  test.each(expected.map((v, len) => [len, v] as const))('len %i gives %#x little-endian', (len, v) => {
    expect(internetChecksum(buf, 0, len, foldSum(0x8402ab7a))).toBe(swap(v));
  });
  test('all-carry: 0xff bytes with init 0xffffffff fold to 0xff00 (odd) or 0 (even), little-endian', () => {
    const ff = new Uint8Array(300).fill(0xff);
    for (let len = 1; len < 300; len++) {
      expect(internetChecksum(ff, 0, len, foldSum(0xffffffff))).toBe(len % 2 ? swap(0xff00) : 0);
    }
    expect(internetChecksum(ff, 0, 0)).toBe(0xffff);
  });
});

describe('the SIMD path (checksumArena)', () => {
  test('the module assembled in checksum-simd.ts validates and arenas are WebAssembly memory', () => {
    const a = checksumArena(1000);
    expect(a.length).toBe(1000);
    expect(arenaSum(a)).toBeTypeOf('function');
    expect(arenaSum(new Uint8Array(1000))).toBeUndefined();
    // arenas made together share a memory, without overlapping, and start zeroed
    const b = checksumArena(5000);
    const c = checksumArena(70000);
    expect(b.every((x) => x === 0) && c.every((x) => x === 0)).toBe(true);
    if (b.buffer === c.buffer) expect(c.byteOffset).toBeGreaterThanOrEqual(b.byteOffset + b.length);
    b.fill(1);
    expect(c.every((x) => x === 0)).toBe(true);
    const huge = checksumArena(5 << 20); // larger than a shared memory: its own
    expect(huge.length).toBe(5 << 20);
    expect(arenaSum(huge)).toBeTypeOf('function');
  });
  test('sums like the byte-pair loop at every start 0..7 and lengths around the SIMD threshold and block edges', () => {
    const a = checksumArena(8192);
    for (let i = 0; i < a.length; i++) a[i] = (i * 2654435761) >>> 24;
    const plain = a.slice();
    for (let start = 0; start < 8; start++) {
      for (const len of [511, 512, 513, 515, 543, 544, 545, 1480, 1514, 4095, 8000]) {
        const s = internetSum(a, start, len);
        expect(s).toBe(internetSum(plain, start, len)); // the JavaScript path on the same bytes
        const n = naiveSum(a, start, len);
        expect(s === n || (s === 0xffff && n === 0) || (s === 0 && n === 0xffff)).toBe(true);
      }
    }
    // a subarray of an arena is still summed in the arena (buffer offsets are memory addresses)
    const sub = a.subarray(1001, 5000);
    expect(internetSum(sub, 3, 3000)).toBe(naiveSum(sub, 3, 3000));
  });
  test('property: arenas cut at many chunk positions, random starts, lengths and seeds sum like RFC 1071 (and like the same bytes outside an arena)', () => {
    let x = 0x9e3779b9;
    const rnd = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const same = (s: number, n: number): boolean => s === n || (s === 0xffff && n === 0) || (s === 0 && n === 0xffff);
    for (let round = 0; round < 60; round++) {
      checksumArena(1 + rnd(3000)); // moves the next arena along its shared memory
      const a = checksumArena(2048 + rnd(20000));
      expect(arenaSum(a)).toBeTypeOf('function');
      const fill = rnd(4);
      for (let i = 0; i < a.length; i++) a[i] = fill === 0 ? 0xff : fill === 1 ? 0 : rnd(256);
      const plain = a.slice();
      for (let k = 0; k < 8; k++) {
        const off = rnd(64);
        const len = rnd(a.length - off + 1);
        const seed = rnd(4) === 0 ? rnd(0x10000) : 0;
        const s = internetSum(a, off, len, seed);
        expect(same(s, foldSum(naiveSum(a, off, len) + seed))).toBe(true);
        expect(s).toBe(internetSum(plain, off, len, seed));
      }
    }
  });
  test('all-0xff words over more than one call of 2^17 blocks stay exact', () => {
    const n = (1 << 17) * 32 + 4096 + 5;
    const a = checksumArena(n);
    a.fill(0xff);
    expect(internetSum(a, 1, n - 1)).toBe(naiveSum(a, 1, n - 1));
    a[12345] = 0x12;
    expect(internetSum(a, 0, n)).toBe(naiveSum(a, 0, n));
  });
});

describe('the fast path', () => {
  test('a range outside the array throws RangeError instead of summing the buffer next to it', () => {
    const all = new Uint8Array(4096).fill(0x11);
    const view = all.subarray(1024, 2048); // the word view spans all 4096 bytes
    expect(internetSum(view, 0, 1024)).toBe(naiveSum(view, 0, 1024));
    expect(() => internetSum(view, 512, 1024)).toThrow(RangeError);
    expect(() => internetSum(view, -4, 100)).toThrow(RangeError);
    expect(() => internetChecksum(view, 0, -1)).toThrow(RangeError);
  });
  test('every length 0..300 at every start 0..7 sums like the byte-pair loop (the 8-word blocks and their remainder)', () => {
    const buf = new Uint8Array(320).map((_, i) => (i * 2654435761) >>> 24);
    for (let start = 0; start < 8; start++) {
      for (let len = 0; len <= 300; len++) {
        const s = internetSum(buf, start, len);
        const n = naiveSum(buf, start, len);
        expect(s === n || (s === 0xffff && n === 0) || (s === 0 && n === 0xffff)).toBe(true);
      }
    }
  });
  test('a buffer longer than one fold chunk (2^20 words) sums like the byte-pair loop', () => {
    const big = new Uint8Array((1 << 22) + 4099).map((_, i) => (i * 2654435761) >>> 24);
    expect(internetSum(big, 3, big.length - 3)).toBe(naiveSum(big, 3, big.length - 3));
  });
  propTest.prop([fc.uint8Array({ maxLength: 3000 }), fc.nat(7), fc.nat(7)])(
    'internetSum() equals the byte-pair sum for any length, start offset and view offset',
    (data, viewOff, start) => {
      const buf = new Uint8Array(new ArrayBuffer(data.length + 16), viewOff, data.length + 8);
      buf.set(data, start);
      const s = internetSum(buf, start, data.length);
      const n = naiveSum(buf, start, data.length);
      expect(s === n || (s === 0xffff && n === 0) || (s === 0 && n === 0xffff)).toBe(true);
    },
  );
  propTest.prop([fc.uint8Array({ minLength: 2, maxLength: 2000 }), fc.nat(), fc.nat(0xffff)])(
    'updateChecksum16() after changing one word equals the full checksum',
    (data, pick, word) => {
      const even = data.length & ~1;
      const at = (pick % (even / 2)) * 2;
      const before = internetChecksum(data, 0, even);
      const old = be(data, at);
      data[at] = word >> 8;
      data[at + 1] = word & 0xff;
      const upd = updateChecksum16(before, old, word);
      const full = internetChecksum(data, 0, even);
      // 0x0000 and 0xffff are the two one's-complement zeros.
      expect(upd === full || (upd ^ full) === 0xffff).toBe(true);
    },
  );
  propTest.prop([fc.uint8Array({ minLength: 8, maxLength: 200 }), fc.nat(), fc.nat(0xffffffff)])(
    'updateChecksum32() after changing one 32-bit field equals the full checksum',
    (data, pick, value) => {
      const even = data.length & ~1;
      const at = (pick % ((even - 2) / 2)) * 2;
      const before = internetChecksum(data, 0, even);
      const old = ((be(data, at) << 16) | be(data, at + 2)) >>> 0;
      data[at] = value >>> 24;
      data[at + 1] = (value >>> 16) & 0xff;
      data[at + 2] = (value >>> 8) & 0xff;
      data[at + 3] = value & 0xff;
      const upd = updateChecksum32(before, old, value);
      const full = internetChecksum(data, 0, even);
      expect(upd === full || (upd ^ full) === 0xffff).toBe(true);
    },
  );
});
