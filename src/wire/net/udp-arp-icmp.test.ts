import { describe, expect, test } from 'vitest';
import { ARPOP_REQUEST, ArpView, writeArp } from './arp.js';
import { ICMPV6_ECHO_REQUEST, IcmpView, writeIcmpEcho } from './icmp.js';
import { UdpView, writeUdpHeader } from './udp.js';

describe('UdpView', () => {
  // smoltcp src/wire/udp.rs PACKET_BYTES (vectors.md §3.3).
  const PACKET = Uint8Array.from([0xbf, 0x00, 0x00, 0x35, 0x00, 0x0c, 0x12, 0x4d, 0xaa, 0x00, 0x00, 0xff]);
  test('reads the smoltcp datagram', () => {
    const v = new UdpView().bind(PACKET, 0, 12);
    expect([v.srcPort, v.dstPort, v.length, v.checksum, v.payloadOffset, v.payloadLen]).toEqual([48896, 53, 12, 0x124d, 8, 4]);
  });
  test('rejects a length below 8 or past the packet', () => {
    const b = PACKET.slice();
    const v = new UdpView();
    b[5] = 7;
    expect(v.tryBind(b, 0, 12)).toBe(false);
    expect(v.faultCode).toBe('MALFORMED');
    b[5] = 13;
    expect(v.tryBind(b, 0, 12)).toBe(false);
    expect(v.faultCode).toBe('TRUNCATED');
  });
  test('writeUdpHeader() writes ports and length', () => {
    const out = new Uint8Array(8).fill(0xee);
    writeUdpHeader(out, 0, 48896, 53, 12);
    expect(Array.from(out)).toEqual([0xbf, 0x00, 0x00, 0x35, 0x00, 0x0c, 0, 0]);
  });
});

describe('ArpView', () => {
  // An RFC 826 request: who has 10.0.0.2, tell 10.0.0.1 (02:00:00:00:00:01).
  const REQ = Uint8Array.from([
    0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
  ]);
  test('reads a request and writeArp() builds the same bytes', () => {
    const v = new ArpView().bind(REQ, 0, 28);
    expect([v.op, v.senderMacOffset, v.senderIp, v.targetMacOffset, v.targetIp]).toEqual([1, 8, 0x0a000001, 18, 0x0a000002]);
    const out = new Uint8Array(28);
    writeArp(out, 0, ARPOP_REQUEST, Uint8Array.of(2, 0, 0, 0, 0, 1), 0x0a000001, new Uint8Array(6), 0x0a000002);
    expect(out).toEqual(REQ);
  });
  test('rejects non-Ethernet/IPv4 ARP as UNSUPPORTED', () => {
    const b = REQ.slice();
    b[5] = 16;
    const v = new ArpView();
    expect(v.tryBind(b, 0, 28)).toBe(false);
    expect(v.faultCode).toBe('UNSUPPORTED');
  });
});

describe('IcmpView', () => {
  test('reads the smoltcp ICMPv6 echo request (vectors.md §3.3) and writeIcmpEcho() writes its header', () => {
    const b = Uint8Array.from([0x80, 0x00, 0x19, 0xb3, 0x12, 0x34, 0xab, 0xcd, 0xaa, 0x00, 0x00, 0xff]);
    const v = new IcmpView().bind(b, 0, 12);
    expect([v.type, v.code, v.checksum, v.identifier, v.sequence]).toEqual([ICMPV6_ECHO_REQUEST, 0, 0x19b3, 0x1234, 0xabcd]);
    const out = new Uint8Array(8);
    writeIcmpEcho(out, 0, ICMPV6_ECHO_REQUEST, 0x1234, 0xabcd);
    expect(Array.from(out)).toEqual([0x80, 0, 0, 0, 0x12, 0x34, 0xab, 0xcd]);
  });
});
