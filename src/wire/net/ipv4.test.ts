import { describe, expect, test } from 'vitest';
import { WireError } from '../../core/index.js';
import { Ipv4View, writeIpv4Header } from './ipv4.js';

// smoltcp src/wire/ipv4.rs PACKET_BYTES (vectors.md §3.3): header then 10 payload bytes.
const PACKET = Uint8Array.from([
  0x45, 0x00, 0x00, 0x1e, 0x01, 0x02, 0x62, 0x03, 0x1a, 0x01, 0xd5, 0x6e, 0x11, 0x12, 0x13, 0x14, 0x21, 0x22, 0x23, 0x24,
  0xaa, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
]);

describe('Ipv4View', () => {
  test('reads every field of the smoltcp packet', () => {
    const v = new Ipv4View().bind(PACKET, 0, PACKET.length);
    expect([v.headerLen, v.tos, v.totalLen, v.id, v.ttl, v.protocol, v.checksum]).toEqual([20, 0, 30, 0x0102, 0x1a, 1, 0xd56e]);
    expect([v.dontFragment, v.moreFragments, v.fragmentOffset, v.isFragment]).toEqual([true, true, 0x203 * 8, true]);
    expect([v.src, v.dst]).toEqual([0x11121314, 0x21222324]);
    expect([v.payloadOffset, v.payloadLen]).toEqual([20, 10]);
  });
  test('skips options by IHL and accepts trailing Ethernet padding', () => {
    const b = new Uint8Array(40);
    b.set([0x46, 0, 0, 28]);
    const v = new Ipv4View().bind(b, 0, 40);
    expect([v.headerLen, v.payloadOffset, v.payloadLen, v.isFragment]).toEqual([24, 24, 4, false]);
  });
  test('rejects a short header, a bad version, IHL < 5, options past the packet and a bad total length', () => {
    const v = new Ipv4View();
    const cases: [number[], number, string][] = [
      [[0x45, 0, 0, 20], 19, 'TRUNCATED'],
      [[0x65, 0, 0, 20], 20, 'MALFORMED'],
      [[0x44, 0, 0, 20], 20, 'MALFORMED'],
      [[0x4f, 0, 0, 60], 40, 'TRUNCATED'],
      [[0x45, 0, 0, 19], 20, 'MALFORMED'],
      [[0x45, 0, 0, 41], 40, 'TRUNCATED'],
    ];
    for (const [head, len, code] of cases) {
      const b = new Uint8Array(64);
      b.set(head);
      expect(v.tryBind(b, 0, len)).toBe(false);
      expect(v.faultCode).toBe(code);
      expect(() => v.bind(b, 0, len)).toThrow(WireError);
    }
  });
  test('a region outside the buffer is TRUNCATED, never a RangeError', () => {
    expect(() => new Ipv4View().bind(new Uint8Array(20), 10, 20)).toThrow(WireError);
    expect(() => new Ipv4View().bind(new Uint8Array(20), -1, 20)).toThrow(WireError);
  });
  test('an LSO super-frame with total length 0 covers the bound length', () => {
    const b = new Uint8Array(1000);
    b[0] = 0x45;
    expect(new Ipv4View().tryBind(b, 0, 1000)).toBe(false);
    expect(new Ipv4View().bind(b, 0, 1000, true).payloadLen).toBe(980);
  });
  test('writeIpv4Header() writes the smoltcp REPR_PACKET_BYTES header (checksum left 0)', () => {
    const out = new Uint8Array(20).fill(0xee);
    expect(writeIpv4Header(out, 0, 0x18, 0, 0x40, 1, 0x11121314, 0x21222324)).toBe(20);
    expect(Array.from(out)).toEqual([0x45, 0, 0, 0x18, 0, 0, 0x40, 0, 0x40, 1, 0, 0, 0x11, 0x12, 0x13, 0x14, 0x21, 0x22, 0x23, 0x24]);
  });
});
