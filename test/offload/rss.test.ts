// Issue 5 item 3: Microsoft's RSS suite (vectors.md §1.3–1.4) through the host's real channel
// choice: frames from the wire reach a real guest with 4 (then 2) channels on channel
// table[hash mod table size] with the listed hash in the hash-value PPI; UDP by addresses only;
// every IPv4 and IPv6 fragment on channel 0 without a hash. The table is set with ethtool -X.
import { describe, expect, test } from 'vitest';
import { buildTcp4Frame, buildTcp6Frame, buildUdp4Frame, buildUdp6Frame, fillIpv4HeaderChecksum, FrameSpec } from '../../src/packet/index.js';
import { RX_F_HASH } from '../../src/guest/netvsc/meta.js';
import { ipv4Bytes, ipv6Bytes, RSS_V4, RSS_V6 } from '../../src/packet/_fixtures.js';
import { OffloadLab, pump, type LabGuest, type WirePort } from './harness.js';
import { PortFrameMeta } from '../../src/host/index.js';
import { closeLabsAfterEach } from './labs.js';

const labs = closeLabsAfterEach();

const WIRE_MAC = [0xfe, 0, 0, 0, 0, 1];
type Row = readonly [string, number, string, number, number, number];

function spec(b: LabGuest, row: Row, v6: boolean): FrameSpec {
  const [dst, dport, src, sport] = row;
  const s = new FrameSpec();
  s.dstMac.set(b.mac);
  s.srcMac.set(WIRE_MAC);
  if (v6) {
    s.src6.set(ipv6Bytes(src));
    s.dst6.set(ipv6Bytes(dst));
  } else {
    s.src4 = ipv4Bytes(src).reduce((a, x) => a * 256 + x, 0);
    s.dst4 = ipv4Bytes(dst).reduce((a, x) => a * 256 + x, 0);
  }
  s.srcPort = sport;
  s.dstPort = dport;
  return s;
}

function frame(b: LabGuest, row: Row, v6: boolean, udp: boolean): Uint8Array {
  const out = new Uint8Array(200);
  const p = new Uint8Array(16).fill(0x33);
  const build = v6 ? (udp ? buildUdp6Frame : buildTcp6Frame) : udp ? buildUdp4Frame : buildTcp4Frame;
  return out.slice(0, build(out, 0, spec(b, row, v6), p, 0, p.length));
}

/** An IPv4 UDP/TCP frame turned into a fragment: MF set (first fragment) or offset 185 (a later one). */
function frag4(b: LabGuest, row: Row, udp: boolean, first: boolean): Uint8Array {
  const f = frame(b, row, false, udp);
  f[20] = first ? 0x20 : 0x00;
  f[21] = first ? 0x00 : 185;
  fillIpv4HeaderChecksum(f, 14);
  return f;
}

/** An IPv6 packet with a fragment header (next header 44) before its TCP/UDP header. */
function frag6(b: LabGuest, row: Row, udp: boolean, offset: number): Uint8Array {
  const f = frame(b, row, true, udp);
  const out = new Uint8Array(f.length + 8);
  out.set(f.subarray(0, 54), 0);
  out.set(f.subarray(54), 62);
  out[20] = 44; // next header: fragment
  const plen = ((f[18]! << 8) | f[19]!) + 8;
  out[18] = plen >>> 8;
  out[19] = plen & 0xff;
  out.set([udp ? 17 : 6, 0, (offset >>> 5) & 0xff, ((offset << 3) & 0xf8) | 1, 0, 0, 0x12, 0x34], 54);
  return out;
}

async function deliver(lab: OffloadLab, wire: WirePort, b: LabGuest, f: Uint8Array): Promise<{ queue: number; hash: number | null }> {
  b.rx.length = 0;
  expect(wire.handle.forward(f, 0, f.length, new PortFrameMeta())).toBe(1);
  await lab.settle(1);
  expect(b.rx).toHaveLength(1);
  const r = b.rx[0]!;
  expect([...r.bytes]).toEqual([...f]);
  return { queue: r.queue, hash: (r.flags & RX_F_HASH) !== 0 ? r.hash : null };
}

/** A table that is not i mod n, so a wrong index cannot pass by accident. */
function scrambled(size: number, n: number): number[] {
  return Array.from({ length: size }, (_, i) => ((i * 37 + (i >> 3)) ^ 5) % n);
}

describe('vRSS: the host picks the receive channel (issue 5 item 3, protocol.md §6.4, vectors.md §1, §5.5)', () => {
  test('every Microsoft vector arrives on table[hash mod size] with the listed hash; UDP 2-tuple; fragments on channel 0; -X and -L while running', async () => {
    const lab = new OffloadLab('azure');
    labs.push(lab);
    const b = await lab.guest('b', '00:15:5d:00:00:0b', { channels: 4 });
    const wire = lab.wire();
    expect(b.dev.queueCount).toBe(4);
    const size = b.dev.ethtool().rxfh.indir.length;
    expect(size).toBe(128);
    const check = async (n: number): Promise<number[]> => {
      const table = b.dev.ethtool().rxfh.indir;
      const used = new Set<number>();
      for (const [rows, v6] of [[RSS_V4, false], [RSS_V6, true]] as const) {
        for (const row of rows) {
          const tcp = await deliver(lab, wire, b, frame(b, row, v6, false));
          expect(tcp, `TCP ${row[2]}→${row[0]}`).toEqual({ queue: table[row[5] % size], hash: row[5] });
          const udp = await deliver(lab, wire, b, frame(b, row, v6, true));
          expect(udp, `UDP ${row[2]}→${row[0]} by addresses`).toEqual({ queue: table[row[4] % size], hash: row[4] });
          used.add(tcp.queue).add(udp.queue);
          for (const udpFrag of [false, true]) {
            const fr = v6 ? [frag6(b, row, udpFrag, 0), frag6(b, row, udpFrag, 185)] : [frag4(b, row, udpFrag, true), frag4(b, row, udpFrag, false)];
            for (const f of fr) expect(await deliver(lab, wire, b, f), `fragment of ${row[2]}`).toEqual({ queue: 0, hash: null });
          }
        }
      }
      for (const q of used) expect(q).toBeLessThan(n);
      return [...used];
    };
    await check(4);
    // ethtool -X: a new table, then traffic again
    await lab.settle();
    await pump(lab.lab, b.dev.setRxfh({ indir: scrambled(size, 4) }));
    expect(b.dev.ethtool().rxfh.indir).toEqual(scrambled(size, 4));
    expect((await check(4)).length).toBeGreaterThan(1);
    // an entry ≥ the channel count is refused
    await expect(pump(lab.lab, b.dev.setRxfh({ indir: scrambled(size, 5) }))).rejects.toThrow(/entries/);
    // ethtool -L 2: re-attach, the default table over 2 channels
    await pump(lab.lab, b.dev.setChannels(2));
    expect(b.dev.queueCount).toBe(2);
    await check(2);
  });

  test('a key set with -X changes the hash (and survives -L)', async () => {
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const b = await lab.guest('b', '00:15:5d:00:00:0b', { channels: 4 });
    const wire = lab.wire();
    const row = RSS_V4[0]!;
    const before = await deliver(lab, wire, b, frame(b, row, false, false));
    expect(before.hash).toBe(row[5]);
    const key = new Uint8Array(40).map((_, i) => (i * 29 + 1) & 0xff);
    await pump(lab.lab, b.dev.setRxfh({ key }));
    const after = await deliver(lab, wire, b, frame(b, row, false, false));
    expect(after.hash).not.toBe(row[5]);
    expect(after.hash).not.toBeNull();
    await pump(lab.lab, b.dev.setChannels(3));
    const again = await deliver(lab, wire, b, frame(b, row, false, false));
    expect(again.hash).toBe(after.hash);
    expect([...b.dev.ethtool().rxfh.key]).toEqual([...key]);
  });

  test('-X and -L while a stream runs: nothing lost across -X, the stream resumes on the new channels after -L', async () => {
    const lab = new OffloadLab('ws2019');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const b = await lab.guest('b', '00:15:5d:00:00:0b', { channels: 4 });
    const size = b.dev.ethtool().rxfh.indir.length;
    const flows = Array.from({ length: 32 }, (_, i) => frame(b, [`10.9.0.${i + 1}`, 80, '10.8.0.1', 3000 + i, 0, 0], false, false));
    let sent = 0;
    const burst = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const f = flows[sent % flows.length]!.slice();
        f.set(a.mac, 6);
        expect(a.dev.send(f, 0, f.length, null, i !== n - 1)).toBe(true);
        sent++;
      }
    };
    b.rx.length = 0;
    // Frames are queued in a's TX batch and the host's burst while each -X is in progress.
    for (let round = 0; round < 4; round++) {
      burst(20);
      const change = b.dev.setRxfh({ indir: scrambled(size, 4).map((q) => (q + round) % 4) });
      burst(20);
      await pump(lab.lab, change);
    }
    await lab.settle();
    expect(b.rx.length).toBe(sent);
    // Frames that meet the DISABLE half of a -X (§6.4: DISABLE, then the new parameters) land on
    // channel 0; once the new table is in, the flows spread again.
    b.rx.length = 0;
    sent = 0;
    burst(64);
    await lab.settle();
    expect(b.rx.length).toBe(64);
    expect(new Set(b.rx.map((r) => r.queue)).size).toBeGreaterThan(1);
    // -L 2 with frames queued: the re-attach may drop what reaches b while it has no buffer (as Linux
    // does); afterwards every frame arrives, on channel 0 or 1.
    burst(16);
    await pump(lab.lab, b.dev.setChannels(2));
    b.rx.length = 0;
    burst(64);
    await lab.settle();
    expect(b.rx).toHaveLength(64);
    expect(Math.max(...b.rx.map((r) => r.queue))).toBeLessThan(2);
    expect(new Set(b.rx.map((r) => r.queue)).size).toBe(2);
  });

  test('64 channels on azure: flows spread over many channels, all below 64', async () => {
    const lab = new OffloadLab('azure');
    labs.push(lab);
    const b = await lab.guest('b', '00:15:5d:00:00:0b', { channels: 64, poolSlots: 2, ringPages: 8, rxSections: 128, txSections: 32 });
    const wire = lab.wire();
    expect(b.dev.queueCount).toBe(64);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const r = await deliver(lab, wire, b, frame(b, [`10.0.${i >> 8}.${i & 255}`, 80, '10.1.0.1', 1000 + i, 0, 0], false, false));
      seen.add(r.queue);
    }
    expect(Math.max(...seen)).toBeLessThan(64);
    expect(seen.size).toBeGreaterThan(40);
  });
});
