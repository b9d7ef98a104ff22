// Issue 5 item 5: GRO on the guest's receive path, end to end. Frames enter the switch from the
// wire port in one host burst (one transfer-page packet) and reach a real guest, whose per-queue
// GroEngine coalesces them by the Linux rules. The full selftest matrix (45 cases, incl. the 64 KB
// limit) runs against GroEngine itself in src/packet/gro.test.ts; here a row of each kind goes
// through the whole guest, plus a 64 KB LSO send arriving as one coalesced frame and the switch.
import { afterEach, describe, expect, test } from 'vitest';
import { buildTcp4Frame, buildTcp6Frame, FrameSpec, verifyL4Checksum } from '../../src/packet/index.js';
import { PortFrameMeta } from '../../src/host/index.js';
import { TCP_ACK, TCP_PSH } from '../../src/wire/index.js';
import { OffloadLab, type LabGuest } from './harness.js';

const labs: OffloadLab[] = [];
afterEach(async () => {
  while (labs.length > 0) await labs.pop()!.close();
});

interface Seg {
  seq: number;
  len: number;
  flags?: number;
  badCsum?: boolean;
}

function seg(b: LabGuest, v6: boolean, s: Seg, id: number): Uint8Array {
  const f = new FrameSpec();
  f.dstMac.set(b.mac);
  f.srcMac.set([0xfe, 0, 0, 0, 0, 1]);
  f.src4 = 0xc0a801c8;
  f.dst4 = 0xc0a80164;
  f.src6[0] = 0xfd;
  f.src6[15] = 2;
  f.dst6[0] = 0xfd;
  f.dst6[15] = 1;
  f.srcPort = 1500;
  f.dstPort = 8000;
  f.seq = s.seq;
  f.ack = 1;
  f.ipId = id;
  f.tcpFlags = s.flags ?? TCP_ACK;
  const payload = Uint8Array.from({ length: s.len }, (_, i) => (s.seq + i) & 0xff);
  const out = new Uint8Array(s.len + 100);
  const n = (v6 ? buildTcp6Frame : buildTcp4Frame)(out, 0, f, payload, 0, s.len);
  const fr = out.slice(0, n);
  if (s.badCsum) fr[v6 ? 71 : 51] ^= 1;
  return fr;
}

function run(lens: number[], extra: (i: number) => Partial<Seg> = () => ({})): Seg[] {
  let seq = 0;
  return lens.map((len, i) => {
    const s = { seq, len, ...extra(i) };
    seq += len;
    return s;
  });
}

/** Injects the segments in one burst and returns the payload length of each packet the guest got. */
async function burst(lab: OffloadLab, wire: ReturnType<OffloadLab['wire']>, b: LabGuest, v6: boolean, segs: Seg[]): Promise<number[]> {
  b.rx.length = 0;
  const meta = new PortFrameMeta();
  segs.forEach((s, i) => {
    const f = seg(b, v6, s, i + 1);
    meta.clear();
    expect(wire.handle.forward(f, 0, f.length, meta)).toBe(1);
  });
  await lab.settle(2);
  return b.rx.map((r) => r.bytes.length - (v6 ? 74 : 54));
}

// [name, segments, expected payloads] — vectors.md §6.3 rows of each kind
const ROWS: [string, () => Seg[], number[]][] = [
  ['data: same size', () => run([100, 100]), [200]],
  ['data: large then small', () => run([100, 50]), [150]],
  ['data: small then large', () => run([50, 100]), [50, 100]],
  ['flags: PSH on the 3rd', () => run([100, 100, 100, 100, 100], (i) => (i === 2 ? { flags: TCP_ACK | TCP_PSH } : {})), [300, 200]],
  ['tcp: bad checksum on the 2nd', () => run([100, 100], (i) => ({ badCsum: i === 1 })), [100, 100]],
  ['tcp: seq gap', () => run([100, 100], (i) => (i === 1 ? { seq: 101 } : {})), [100, 100]],
];

describe('GRO in the guest (issue 5 item 5, protocol.md §6.5, vectors.md §6)', () => {
  test('selftest rows through a real guest, IPv4 and IPv6; off with ethtool -K gro off', async () => {
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    const wire = lab.wire();
    for (const v6 of [false, true]) {
      for (const [name, segs, want] of ROWS) {
        expect(await burst(lab, wire, b, v6, segs()), `${v6 ? 'v6' : 'v4'} ${name}`).toEqual(want);
        for (const r of b.rx) {
          const l4 = v6 ? 54 : 34;
          if (r.fragments > 1) expect(verifyL4Checksum(r.bytes, 14, v6, 6, l4, r.bytes.length - l4)).toBe(true);
        }
      }
    }
    b.dev.setGro(false);
    expect(await burst(lab, wire, b, false, run([100, 100]))).toEqual([100, 100]);
    b.dev.setGro(true);
    expect(await burst(lab, wire, b, false, run([100, 100]))).toEqual([200]);
  });

  test('a 64 KB LSO send arrives as ONE coalesced frame with GRO on, byte-identical payload', async () => {
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a');
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    const payloadLen = 65535 - 40;
    const payload = Uint8Array.from({ length: payloadLen }, (_, i) => (i * 13 + 7) & 0xff);
    const s = new FrameSpec();
    s.dstMac.set(b.mac);
    s.srcMac.set(a.mac);
    s.src4 = 0x0a000001;
    s.dst4 = 0x0a000002;
    s.srcPort = 4000;
    s.dstPort = 5001;
    s.seq = 1;
    const out = new Uint8Array(payloadLen + 100);
    const n = buildTcp4Frame(out, 0, s, payload, 0, payloadLen);
    expect(a.dev.xmit(out, 0, n, { csum: true, mss: 1460 })).toBe(true);
    a.dev.flush();
    await lab.settle();
    expect(b.rx).toHaveLength(1);
    const r = b.rx[0]!;
    expect(r.fragments).toBe(Math.ceil(payloadLen / 1460));
    expect(r.bytes.length).toBe(54 + payloadLen);
    expect(r.bytes.subarray(54)).toEqual(payload);
    expect(verifyL4Checksum(r.bytes, 14, false, 6, 34, r.bytes.length - 34)).toBe(true);
    expect((r.bytes[16]! << 8) | r.bytes[17]!).toBe(65535);
  });
});
