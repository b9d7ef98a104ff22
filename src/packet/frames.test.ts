import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { EthernetView, Ipv4View, Ipv6View, TcpView, UdpView } from '../wire/index.js';
import { verifyIpv4HeaderChecksum, verifyL4Checksum } from './checksum.js';
import { buildTcp4Frame, buildTcp6Frame, buildUdp4Frame, buildUdp6Frame, FrameSpec } from './frames.js';

const spec = new FrameSpec();
spec.src4 = 0xc0a80001;
spec.dst4 = 0xc0a800c7;
spec.src6[15] = 1;
spec.dst6[15] = 1;
spec.srcPort = 12345;
spec.dstPort = 54321;

describe('frame builders', () => {
  test('buildUdp4Frame() reproduces the libpnet UDP/IPv4 datagram (vectors.md §3.4)', () => {
    const out = new Uint8Array(64);
    const n = buildUdp4Frame(out, 0, spec, new TextEncoder().encode('test'), 0, 4);
    expect(n).toBe(14 + 20 + 12);
    expect(Array.from(out.subarray(34, 46))).toEqual([0x30, 0x39, 0xd4, 0x31, 0x00, 0x0c, 0x91, 0x78, 0x74, 0x65, 0x73, 0x74]);
    expect(verifyIpv4HeaderChecksum(out, 14)).toBe(true);
  });
  test('buildUdp6Frame() reproduces the libpnet UDP/IPv6 checksum 0x1390', () => {
    const out = new Uint8Array(80);
    const n = buildUdp6Frame(out, 0, spec, new TextEncoder().encode('test'), 0, 4);
    expect(n).toBe(14 + 40 + 12);
    expect([out[60], out[61]]).toEqual([0x13, 0x90]);
  });
  propTest.prop([fc.uint8Array({ maxLength: 1500 }), fc.boolean(), fc.boolean(), fc.integer({ min: -1, max: 0xffff })])(
    'built TCP and UDP frames parse back and every checksum verifies',
    (payload, v6, isTcp, vlanTci) => {
      spec.vlanTci = vlanTci;
      const out = new Uint8Array(payload.length + 100);
      const build = v6 ? (isTcp ? buildTcp6Frame : buildUdp6Frame) : isTcp ? buildTcp4Frame : buildUdp4Frame;
      const n = build(out, 3, spec, payload, 0, payload.length);
      const eth = new EthernetView().bind(out, 3, n);
      expect(eth.vlanTci).toBe(vlanTci);
      const ip = v6 ? new Ipv6View().bind(out, eth.payloadOffset, eth.payloadLen) : new Ipv4View().bind(out, eth.payloadOffset, eth.payloadLen);
      const l4Off = ip instanceof Ipv6View ? ip.upperOffset : ip.payloadOffset;
      const l4Len = ip instanceof Ipv6View ? ip.upperLen : ip.payloadLen;
      const l4 = isTcp ? new TcpView().bind(out, l4Off, l4Len) : new UdpView().bind(out, l4Off, l4Len);
      expect([l4.srcPort, l4.dstPort, l4.payloadLen]).toEqual([12345, 54321, payload.length]);
      expect(Array.from(out.subarray(l4.payloadOffset, l4.payloadOffset + payload.length))).toEqual(Array.from(payload));
      if (!v6) expect(verifyIpv4HeaderChecksum(out, ip.at)).toBe(true);
      expect(verifyL4Checksum(out, ip.at, v6, isTcp ? 6 : 17, l4Off, l4Len)).toBe(true);
    },
  );
});
