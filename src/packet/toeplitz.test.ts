import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { NETVSC_HASH_KEY_HEX } from '../wire/index.js';
import { be16, hex, ipv4Bytes, ipv6Bytes, RSS_V4, RSS_V6 } from './_fixtures.js';
import { writeHashInputIpv4, writeHashInputIpv6 } from './hash-input.js';
import { toeplitzHash, toeplitzHashAt, toeplitzHashBitwise, toeplitzTables } from './toeplitz.js';

const KEY = hex(NETVSC_HASH_KEY_HEX);
const T = toeplitzTables(KEY);

const V4 = RSS_V4;
const V6 = RSS_V6;

/** A received IPv4 packet's first 24 bytes: header without options, then the two ports. */
function ipv4Packet(dst: string, dport: number, src: string, sport: number): Uint8Array {
  const head = [0x45, 0, 0, 24, 0, 0, 0, 0, 64, 6, 0, 0];
  return Uint8Array.from([...head, ...ipv4Bytes(src), ...ipv4Bytes(dst), ...be16(sport), ...be16(dport)]);
}

function ipv6Packet(dst: string, dport: number, src: string, sport: number): Uint8Array {
  const head = [0x60, 0, 0, 0, 0, 4, 6, 64];
  return Uint8Array.from([...head, ...ipv6Bytes(src), ...ipv6Bytes(dst), ...be16(sport), ...be16(dport)]);
}

describe('Toeplitz hash on the Microsoft RSS verification suite (vectors.md §1.3–1.4)', () => {
  const scratch = new Uint8Array(36);
  test.each(V4)('IPv4 %s:%i from %s:%i', (dst, dport, src, sport, ipOnly, withTcp) => {
    const p = ipv4Packet(dst, dport, src, sport);
    const n2 = writeHashInputIpv4(scratch, p, 0, -1);
    expect(n2).toBe(8);
    expect(toeplitzHash(T, scratch, 0, n2)).toBe(ipOnly);
    expect(toeplitzHashBitwise(KEY, scratch, 0, n2)).toBe(ipOnly);
    const n4 = writeHashInputIpv4(scratch, p, 0, 20);
    expect(n4).toBe(12);
    expect(toeplitzHash(T, scratch, 0, n4)).toBe(withTcp);
    expect(toeplitzHashBitwise(KEY, scratch, 0, n4)).toBe(withTcp);
  });
  test.each(V6)('IPv6 %s (%i) from %s (%i)', (dst, dport, src, sport, ipOnly, withTcp) => {
    const p = ipv6Packet(dst, dport, src, sport);
    const n2 = writeHashInputIpv6(scratch, p, 0, -1);
    expect(n2).toBe(32);
    expect(toeplitzHash(T, scratch, 0, n2)).toBe(ipOnly);
    expect(toeplitzHashBitwise(KEY, scratch, 0, n2)).toBe(ipOnly);
    const n4 = writeHashInputIpv6(scratch, p, 0, 40);
    expect(n4).toBe(36);
    expect(toeplitzHash(T, scratch, 0, n4)).toBe(withTcp);
    expect(toeplitzHashBitwise(KEY, scratch, 0, n4)).toBe(withTcp);
  });
  test('swapping source and destination gives the byte-order-bug values of vectors.md §1.6', () => {
    const p = ipv4Packet(V4[0]![2], V4[0]![3], V4[0]![0], V4[0]![1]);
    const n = writeHashInputIpv4(scratch, p, 0, 20);
    expect(toeplitzHash(T, scratch, 0, n)).toBe(0xfde799b2);
  });
  test('the symmetric key 0x6d5a… gives the same hash in both directions (vectors.md §1.6)', () => {
    const sym = new Uint8Array(40).map((_, i) => (i % 2 === 0 ? 0x6d : 0x5a));
    const st = toeplitzTables(sym);
    const [dst, dport, src, sport] = V4[0]!;
    const a = ipv4Packet(dst, dport, src, sport);
    const b = ipv4Packet(src, sport, dst, dport);
    expect(toeplitzHash(st, scratch, 0, writeHashInputIpv4(scratch, a, 0, 20))).toBe(0x9fcc9fcc);
    expect(toeplitzHash(st, scratch, 0, writeHashInputIpv4(scratch, b, 0, 20))).toBe(0x9fcc9fcc);
    expect(toeplitzHash(st, scratch, 0, writeHashInputIpv4(scratch, a, 0, -1))).toBe(0x0a590a59);
  });
});

describe('toeplitzTables()', () => {
  test('rejects a key too short for the longest input', () => {
    expect(() => toeplitzTables(new Uint8Array(39))).toThrow(/cannot hash 36 B/);
  });
  test('toeplitzHash() rejects an input longer than the tables', () => {
    expect(() => toeplitzHash(toeplitzTables(KEY, 12), new Uint8Array(16), 0, 16)).toThrow(/exceeds/);
  });
  test('toeplitzHashAt() rejects a range outside the input or past the tables instead of hashing undefined as 0', () => {
    const t = toeplitzTables(KEY, 12);
    const input = new Uint8Array(12).fill(0xa5);
    expect(toeplitzHashAt(t, input, 0, 12, 0)).toBe(toeplitzHash(t, input, 0, 12));
    expect(() => toeplitzHashAt(t, input, 4, 12, 0)).toThrow(RangeError); // past the input's end
    expect(() => toeplitzHashAt(t, input, -1, 4, 0)).toThrow(RangeError);
    expect(() => toeplitzHashAt(t, input, 0, 4, 10)).toThrow(RangeError); // pos + len past 12 B of tables
  });
  propTest.prop([fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.uint8Array({ maxLength: 36 }), fc.nat(8)])(
    'the table hash equals the bit-by-bit definition for any key and input',
    (key, input, pad) => {
      const buf = new Uint8Array(pad + input.length);
      buf.set(input, pad);
      expect(toeplitzHash(toeplitzTables(key), buf, pad, input.length)).toBe(toeplitzHashBitwise(key, buf, pad, input.length));
    },
  );
});
