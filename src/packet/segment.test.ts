import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { ResourceError, WireError } from '../core/index.js';
import { EthernetView, Ipv4View, Ipv6View, TCP_ACK, TCP_CWR, TCP_FIN, TCP_PSH, TcpView } from '../wire/index.js';
import { verifyIpv4HeaderChecksum, verifyL4Checksum, writePseudoSeed } from './checksum.js';
import { buildTcp4Frame, buildTcp6Frame, buildUdp4Frame, FrameSpec } from './frames.js';
import { TcpSegmenter } from './segment.js';

const spec = new FrameSpec();
spec.src4 = 0x0a000001;
spec.dst4 = 0x0a000002;
spec.src6.set([0xfd, 0xaa], 0);
spec.src6[15] = 2;
spec.dst6.set([0xfd, 0xaa], 0);
spec.dst6[15] = 1;
spec.srcPort = 40000;
spec.dstPort = 5201;

/** A super-frame as Linux hands it to netvsc for LSO: lengths zeroed, TCP checksum seeded (vectors.md §4.7). */
function superFrame(payload: Uint8Array, v6: boolean, vlan: boolean, flags: number): Uint8Array {
  spec.vlanTci = vlan ? 0x2007 : -1;
  spec.seq = 0xfffff000; // wraps during a 64 KB send
  spec.ipId = 0xfffe;
  spec.tcpFlags = flags;
  const f = new Uint8Array(payload.length + 100);
  const n = (v6 ? buildTcp6Frame : buildTcp4Frame)(f, 0, spec, payload, 0, payload.length);
  const ip = vlan ? 18 : 14;
  const l4 = ip + (v6 ? 40 : 20);
  if (v6) {
    f[ip + 4] = 0;
    f[ip + 5] = 0;
  } else {
    f.fill(0, ip + 2, ip + 4);
    f.fill(0, ip + 10, ip + 12);
  }
  writePseudoSeed(f, ip, v6, 6, l4, 0);
  return f.subarray(0, n);
}

const seg = new TcpSegmenter();
const offsets = new Uint32Array(128);
const lengths = new Uint32Array(128);
const out = new Uint8Array(70000 + 128 * 80);

/** Checks every segment field by field and returns the reassembled payload. */
function checkSegments(count: number, mss: number, v6: boolean, flags: number, payloadLen: number): Uint8Array {
  const eth = new EthernetView();
  const ip4 = new Ipv4View();
  const ip6 = new Ipv6View();
  const tcp = new TcpView();
  const joined = new Uint8Array(payloadLen);
  let got = 0;
  for (let i = 0; i < count; i++) {
    eth.bind(out, offsets[i]!, lengths[i]!);
    let l4At: number;
    let l4Len: number;
    if (v6) {
      ip6.bind(out, eth.payloadOffset, eth.payloadLen);
      expect(ip6.totalLen).toBe(eth.payloadLen);
      [l4At, l4Len] = [ip6.upperOffset, ip6.upperLen];
    } else {
      ip4.bind(out, eth.payloadOffset, eth.payloadLen);
      expect(ip4.totalLen).toBe(eth.payloadLen);
      expect(ip4.id).toBe((0xfffe + i) & 0xffff);
      expect(verifyIpv4HeaderChecksum(out, ip4.at)).toBe(true);
      [l4At, l4Len] = [ip4.payloadOffset, ip4.payloadLen];
    }
    tcp.bind(out, l4At, l4Len);
    expect(tcp.seq).toBe((0xfffff000 + i * mss) >>> 0);
    expect(tcp.payloadLen).toBe(i < count - 1 ? mss : payloadLen - i * mss);
    const last = i === count - 1;
    expect(tcp.flags & (TCP_FIN | TCP_PSH)).toBe(last ? flags & (TCP_FIN | TCP_PSH) : 0);
    expect(tcp.flags & TCP_CWR).toBe(i === 0 ? flags & TCP_CWR : 0);
    expect(verifyL4Checksum(out, v6 ? ip6.at : ip4.at, v6, 6, l4At, l4Len)).toBe(true);
    joined.set(out.subarray(tcp.payloadOffset, tcp.payloadOffset + tcp.payloadLen), got);
    got += tcp.payloadLen;
  }
  expect(got).toBe(payloadLen);
  return joined;
}

describe('TcpSegmenter', () => {
  test('cuts a 64 KB IPv4 super-frame into 1448-byte segments with every field right', () => {
    const payload = Uint8Array.from({ length: 65000 }, (_, i) => (i * 7) & 0xff);
    const flags = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR;
    const n = seg.segment(superFrame(payload, false, false, flags), 0, 65000 + 54, 1448, out, 0, offsets, lengths);
    expect(n).toBe(45);
    expect(lengths[0]).toBe(54 + 1448);
    expect(checkSegments(n, 1448, false, flags, payload.length)).toEqual(payload);
  });
  propTest.prop([fc.uint8Array({ maxLength: 9000 }), fc.integer({ min: 1, max: 1500 }), fc.boolean(), fc.boolean(), fc.constantFrom(TCP_ACK, TCP_ACK | TCP_PSH, TCP_ACK | TCP_FIN | TCP_CWR)], { numRuns: 60 })(
    'segment then reassemble gives the original payload byte for byte (IPv4/IPv6, VLAN or not)',
    (payload, mss, v6, vlan, flags) => {
      const f = superFrame(payload, v6, vlan, flags);
      const n = seg.segment(f, 0, f.length, mss, out, 5, offsets, lengths);
      expect(n).toBe(Math.max(1, Math.ceil(payload.length / mss)));
      expect(checkSegments(n, mss, v6, flags, payload.length)).toEqual(payload);
    },
  );
  test('rejects non-TCP frames and a zero MSS with WireError, and short outputs with LIMIT', () => {
    const udp = new Uint8Array(100);
    const n = buildUdp4Frame(udp, 0, spec, new Uint8Array(10), 0, 10);
    expect(() => seg.segment(udp, 0, n, 1000, out, 0, offsets, lengths)).toThrow(WireError);
    const f = superFrame(new Uint8Array(3000), false, false, TCP_ACK);
    expect(() => seg.segment(f, 0, f.length, 0, out, 0, offsets, lengths)).toThrow(WireError);
    expect(() => seg.segment(f, 0, f.length, 1000, new Uint8Array(3000), 0, offsets, lengths)).toThrow(ResourceError);
    expect(() => seg.segment(f, 0, f.length, 1000, out, 0, new Uint32Array(2), lengths)).toThrow(ResourceError);
  });
  test('rejects an MSS whose segment would not fit the 16-bit IP length (frame over 64 KiB), cuts it at a normal MSS', () => {
    const payload = new Uint8Array(70000);
    for (const v6 of [false, true]) {
      const f = superFrame(payload, v6, false, TCP_ACK);
      expect(() => seg.segment(f, 0, f.length, 0xfffff, out, 0, offsets, lengths)).toThrow(/16-bit IP length/);
      expect(seg.segment(f, 0, f.length, 1448, out, 0, offsets, lengths)).toBe(Math.ceil(70000 / 1448));
    }
  });
});

describe('finishInPlace (a super-frame for a receiver that takes it whole)', () => {
  test.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('v6 %s, VLAN tag %s: the same bytes as segment() with an MSS above the payload, and the count of MSS segments', (v6, vlan) => {
    const payload = Uint8Array.from({ length: 65000 }, (_, i) => (i * 11 + 3) & 0xff);
    const f = superFrame(payload, v6, vlan, TCP_ACK | TCP_PSH | TCP_FIN);
    const out = new Uint8Array(70000);
    const offs = new Uint32Array(2);
    const lens = new Uint32Array(2);
    expect(seg.segment(f, 0, f.length, 0xfffff, out, 0, offs, lens)).toBe(1);
    const inPlace = f.slice();
    expect(seg.finishInPlace(inPlace, 0, inPlace.length, 1448)).toBe(Math.ceil(65000 / 1448));
    expect(inPlace).toEqual(out.subarray(offs[0]!, offs[0]! + lens[0]!));
    const ip = vlan ? 18 : 14;
    const l4 = ip + (v6 ? 40 : 20);
    expect(verifyL4Checksum(inPlace, ip, v6, 6, l4, inPlace.length - l4)).toBe(true);
    if (!v6) expect(verifyIpv4HeaderChecksum(inPlace, ip)).toBe(true);
  });
  test('refuses what segment() refuses (a UDP frame, MSS 0)', () => {
    const f = new Uint8Array(200);
    const n = buildUdp4Frame(f, 0, spec, new Uint8Array(100), 0, 100);
    expect(() => seg.finishInPlace(f, 0, n, 1448)).toThrow(WireError);
    const t = superFrame(new Uint8Array(100), false, false, TCP_ACK);
    expect(() => seg.finishInPlace(t, 0, t.length, 0)).toThrow(WireError);
  });
});
