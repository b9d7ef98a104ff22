import { describe, expect, test } from 'vitest';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_URG, TcpView, writeTcpHeader } from './tcp.js';

// smoltcp src/wire/tcp.rs PACKET_BYTES (vectors.md §3.3).
const PACKET = Uint8Array.from([
  0xbf, 0x00, 0x00, 0x50, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x60, 0x35, 0x01, 0x23, 0x01, 0xb6, 0x02, 0x01, 0x03,
  0x03, 0x0c, 0x01, 0xaa, 0x00, 0x00, 0xff,
]);

describe('TcpView', () => {
  test('reads every field of the smoltcp segment', () => {
    const v = new TcpView().bind(PACKET, 0, PACKET.length);
    expect([v.srcPort, v.dstPort, v.seq, v.ack, v.headerLen]).toEqual([48896, 80, 0x01234567, 0x89abcdef, 24]);
    expect(v.flags).toBe(TCP_FIN | TCP_RST | TCP_ACK | TCP_URG);
    expect([v.window, v.checksum, v.urgentPointer, v.optionsOffset, v.optionsLen]).toEqual([0x0123, 0x01b6, 0x0201, 20, 4]);
    expect([v.payloadOffset, v.payloadLen]).toEqual([24, 4]);
  });
  test('rejects a data offset below 5 or past the segment', () => {
    const b = PACKET.slice();
    const v = new TcpView();
    b[12] = 0x40;
    expect(v.tryBind(b, 0, b.length)).toBe(false);
    expect(v.faultCode).toBe('MALFORMED');
    b[12] = 0xf0;
    expect(v.tryBind(b, 0, b.length)).toBe(false);
    expect(v.faultCode).toBe('TRUNCATED');
    expect(v.tryBind(b, 0, 19)).toBe(false);
  });
  test('writeTcpHeader() reproduces the smoltcp header (options and checksum written after)', () => {
    const out = new Uint8Array(24).fill(0xee);
    expect(writeTcpHeader(out, 0, 48896, 80, 0x01234567, 0x89abcdef, 0x35, 0x0123, 24)).toBe(24);
    out.set([0x01, 0xb6, 0x02, 0x01, 0x03, 0x03, 0x0c, 0x01], 16);
    expect(Array.from(out)).toEqual(Array.from(PACKET.subarray(0, 24)));
  });
  test('setters write seq, flags and checksum in place', () => {
    const b = PACKET.slice();
    const v = new TcpView().bind(b, 0, b.length);
    v.setSeq(0xfedcba98);
    v.setFlags(TCP_ACK);
    v.setChecksum(0xbeef);
    expect([v.seq, v.flags, v.checksum]).toEqual([0xfedcba98, TCP_ACK, 0xbeef]);
  });
});
