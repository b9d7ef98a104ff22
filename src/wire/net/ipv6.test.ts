import { describe, expect, test } from 'vitest';
import { Ipv6View, writeIpv6Header } from './ipv6.js';

const SRC = Uint8Array.from([0xfe, 0x80, ...Array<number>(13).fill(0), 1]);
const DST = Uint8Array.from([0xfe, 0x80, ...Array<number>(13).fill(0), 2]);

/** An IPv6 packet: fixed header (next header = first of chain), the chain bytes, then `upper` bytes. */
function packet(first: number, chain: number[], upper: number): Uint8Array {
  const pl = chain.length + upper;
  const b = new Uint8Array(40 + pl);
  b.set([0x6a, 0xb1, 0x23, 0x45, pl >> 8, pl & 0xff, first, 64]);
  b.set(SRC, 8);
  b.set(DST, 24);
  b.set(chain, 40);
  return b;
}

describe('Ipv6View', () => {
  test('reads the fixed header fields', () => {
    const v = new Ipv6View().bind(packet(6, [], 20), 0, 60);
    expect([v.trafficClass, v.flowLabel, v.payloadLengthField, v.nextHeader, v.hopLimit]).toEqual([0xab, 0x12345, 20, 6, 64]);
    expect([v.upperProtocol, v.upperOffset, v.upperLen, v.extLen, v.hasFragmentHeader]).toEqual([6, 40, 20, 0, false]);
    expect([v.srcOffset, v.dstOffset]).toEqual([8, 24]);
  });
  test('skips hop-by-hop, routing, destination options and AH to reach TCP', () => {
    const hbh = [43, 0, 1, 4, 0, 0, 0, 0];
    const routing = [60, 1, 0, 0, 0, 0, 0, 0, ...Array<number>(8).fill(0)];
    const dst = [51, 0, 1, 4, 0, 0, 0, 0];
    const ah = [6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // 12 bytes: (1 + 2) * 4
    const v = new Ipv6View().bind(packet(0, [...hbh, ...routing, ...dst, ...ah], 20), 0, 40 + 44 + 20);
    expect([v.upperProtocol, v.upperOffset, v.extLen, v.upperLen]).toEqual([6, 84, 44, 20]);
  });
  test('recognises first, middle and atomic fragments', () => {
    const v = new Ipv6View();
    v.bind(packet(44, [17, 0, 0, 1, 0, 0, 0, 9], 8), 0, 56);
    expect([v.isFragment, v.hasFragmentHeader, v.upperProtocol, v.upperOffset]).toEqual([true, true, 17, 48]);
    v.bind(packet(44, [17, 0, 0x05, 0x00, 0, 0, 0, 9], 8), 0, 56);
    expect([v.isFragment, v.upperProtocol, v.upperOffset, v.upperLen]).toEqual([true, 17, -1, 0]);
    v.bind(packet(44, [17, 0, 0, 0, 0, 0, 0, 9], 8), 0, 56);
    expect([v.isFragment, v.hasFragmentHeader, v.fragmentHeaderOffset]).toEqual([false, true, 40]);
  });
  test('rejects extension headers that run past the payload length', () => {
    const v = new Ipv6View();
    expect(v.tryBind(packet(0, [6, 2, 0, 0, 0, 0, 0, 0], 8), 0, 56)).toBe(false);
    expect(v.faultCode).toBe('TRUNCATED');
    expect(v.tryBind(packet(0, [6, 0, 0, 0], 0), 0, 44)).toBe(false);
  });
  test('rejects a payload length past the frame and a wrong version', () => {
    const b = packet(6, [], 20);
    const v = new Ipv6View();
    expect(v.tryBind(b, 0, 59)).toBe(false);
    b[0] = 0x40;
    expect(v.tryBind(b, 0, 60)).toBe(false);
    expect(v.faultCode).toBe('MALFORMED');
  });
  test('writeIpv6Header() writes version, class, label, lengths and addresses', () => {
    const out = new Uint8Array(40);
    expect(writeIpv6Header(out, 0, 20, 6, 64, SRC, DST, 0xab, 0x12345)).toBe(40);
    expect(Array.from(out)).toEqual(Array.from(packet(6, [], 20).subarray(0, 40)));
  });
});
