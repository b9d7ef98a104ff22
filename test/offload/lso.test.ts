// Issue 5 item 2: LSOv2 end to end. Guest a hands its driver one 64 KB TCP super-frame (IPv4 and
// IPv6) with a GSO size; the driver prepares it per §6.2 (lengths and IPv4 header checksum zeroed,
// pseudo-header seed, LSO PPI); the host cuts it (TcpSegmenter) and guest b receives MTU-sized
// segments, checked field by field, with the payload byte-identical.
import { describe, expect, test } from 'vitest';
import { buildTcp4Frame, buildTcp6Frame, verifyIpv4HeaderChecksum, verifyL4Checksum } from '../../src/packet/index.js';
import { CSUM_RX, TCP_ACK, TCP_FIN, TCP_PSH } from '../../src/wire/index.js';
import { OffloadLab, testSpec } from './harness.js';
import { closeLabsAfterEach } from './labs.js';

const labs = closeLabsAfterEach();

function superFrame(v6: boolean, dst: Uint8Array, src: Uint8Array, payload: Uint8Array, flags: number): Uint8Array {
  const s = testSpec(dst, src, { srcPort: 33000, dstPort: 5001, seq: 0xfffff000 }); // seq wraps inside the super-frame
  s.ack = 77;
  s.ipId = 0xfff0; // wraps too
  s.tcpFlags = flags;
  const out = new Uint8Array(payload.length + 100);
  const n = (v6 ? buildTcp6Frame : buildTcp4Frame)(out, 0, s, payload, 0, payload.length);
  return out.slice(0, n);
}

describe('LSOv2 (issue 5 item 2, protocol.md §6.2)', () => {
  test.each([
    ['IPv4', false, 1460],
    ['IPv6', true, 1440],
  ] as const)('%s: a 64 KB send arrives as MSS segments with correct seq, ids, lengths, flags, checksums', async (_n, v6, mss) => {
    const lab = new OffloadLab('ws2019');
    labs.push(lab);
    // Segments as the host cut them: no GRO in b, no host RSC (gro.test.ts, rsc.test.ts cover those).
    const { a, b } = await lab.pair({ gro: false, lro: false });
    const hdr = v6 ? 74 : 54;
    const payload = Uint8Array.from({ length: 65535 - (hdr - 14) }, (_, i) => (i * 131 + (i >> 9)) & 0xff);
    const f = superFrame(v6, b.mac, a.mac, payload, TCP_ACK | TCP_PSH | TCP_FIN);
    expect(a.dev.xmit(f, 0, f.length, { csum: true, mss })).toBe(true);
    expect(a.dev.txPrep.counters.get('tx_lso_packets')).toBe(1);
    // §6.2 preparation, in the frame the driver sent: lengths (and IPv4 header checksum) zeroed
    if (v6) expect([f[18], f[19]]).toEqual([0, 0]);
    else expect([f[16], f[17], f[24], f[25]]).toEqual([0, 0, 0, 0]);
    a.dev.flush();
    await lab.settle();
    const n = Math.ceil(payload.length / mss);
    expect(b.rx).toHaveLength(n);
    expect(lab.hv.allNics[0]!.stats().queues[0]!['tx_lso_segments']).toBe(n);
    const joined = new Uint8Array(payload.length);
    let at = 0;
    b.rx.forEach((r, i) => {
      const g = r.bytes;
      const chunk = Math.min(mss, payload.length - i * mss);
      expect(g.length, `segment ${i} length`).toBe(hdr + chunk);
      const ip = 14;
      const l4 = hdr - 20;
      if (v6) expect((g[ip + 4]! << 8) | g[ip + 5]!).toBe(20 + chunk);
      else {
        expect((g[ip + 2]! << 8) | g[ip + 3]!).toBe(40 + chunk);
        expect((g[ip + 4]! << 8) | g[ip + 5]!, `ip id ${i}`).toBe((0xfff0 + i) & 0xffff);
        expect(verifyIpv4HeaderChecksum(g, ip)).toBe(true);
      }
      const seq = ((g[l4 + 4]! << 24) | (g[l4 + 5]! << 16) | (g[l4 + 6]! << 8) | g[l4 + 7]!) >>> 0;
      expect(seq, `seq ${i}`).toBe((0xfffff000 + i * mss) >>> 0);
      expect((g[l4 + 8]! << 24) | (g[l4 + 9]! << 16) | (g[l4 + 10]! << 8) | g[l4 + 11]!).toBe(77);
      expect(g[l4 + 13], `flags ${i}`).toBe(i === n - 1 ? TCP_ACK | TCP_PSH | TCP_FIN : TCP_ACK);
      expect(verifyL4Checksum(g, ip, v6, 6, l4, g.length - l4), `tcp checksum ${i}`).toBe(true);
      expect(r.csum).toBe(CSUM_RX.tcpChecksumSucceeded | (v6 ? 0 : CSUM_RX.ipChecksumSucceeded));
      // Ethernet and the unchanged IP/TCP fields are the super-frame's
      expect([...g.subarray(0, 14)]).toEqual([...f.subarray(0, 14)]);
      joined.set(g.subarray(hdr), at);
      at += chunk;
    });
    expect(at).toBe(payload.length);
    expect(joined).toEqual(payload);
  });

  test('LSO of a UDP frame is refused by the driver (typed), nothing is sent', async () => {
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const f = new Uint8Array(100);
    f[12] = 0x08;
    f[14] = 0x45;
    f[16] = 0;
    f[17] = 86;
    f[22] = 64;
    f[23] = 17;
    expect(() => a.dev.xmit(f, 0, f.length, { csum: true, mss: 1000 })).toThrow(/GSO/);
    expect(a.dev.txPrep.counters.get('tx_offload_refused')).toBe(1);
  });

  test('a bad LSO super-frame from a guest (not TCP) is dropped and counted by the host', async () => {
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    const f = new Uint8Array(3000);
    f.set(b.mac, 0);
    f.set(a.mac, 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    expect(a.dev.send(f, 0, f.length, { flags: 8, hash: 0, vlan: 0, csum: 0, lso: ((1 << 30) | 1000) >>> 0 })).toBe(true);
    a.dev.flush();
    await lab.settle();
    expect(b.rx).toHaveLength(0);
    expect(lab.hv.allNics[0]!.stats().queues[0]!['tx_lso_bad']).toBe(1);
  });
});
