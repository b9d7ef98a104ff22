import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { EthernetView, Ipv4View, Ipv6View, TCP_ACK, TCP_FIN, TCP_PSH, TcpView } from '../wire/index.js';
import { fillL4Checksum, verifyIpv4HeaderChecksum, verifyL4Checksum } from './checksum.js';
import { GroEngine, vlanKeyOf, type GroSink } from './gro.js';
import { build, data, largeRows, MATRIX, MSS, type Pkt } from './_gro-matrix.js';

interface Received {
  payloads: number[];
  frames: Uint8Array[];
  segments: number[];
}

/** Feeds the packets and a FIN terminator; returns payload lengths received before the FIN. */
function run(v6: boolean, pkts: Pkt[]): Received {
  const got: Received = { payloads: [], frames: [], segments: [] };
  let sawFin = false;
  const eth = new EthernetView();
  const tcp = new TcpView();
  const sink: GroSink = {
    deliver(frame, off, len, segments) {
      eth.bind(frame, off, len);
      const ip = v6 ? new Ipv6View().bind(frame, eth.payloadOffset, eth.payloadLen) : new Ipv4View().bind(frame, eth.payloadOffset, eth.payloadLen);
      const l4 = ip instanceof Ipv6View ? ip.upperOffset : ip.payloadOffset;
      tcp.bind(frame, l4, ip instanceof Ipv6View ? ip.upperLen : ip.payloadLen);
      expect(sawFin).toBe(false);
      if (tcp.flags & TCP_FIN) {
        sawFin = true;
        return;
      }
      got.payloads.push(tcp.payloadLen);
      got.frames.push(frame.slice(off, off + len));
      got.segments.push(segments);
    },
  };
  const gro = new GroEngine(sink);
  const last = pkts[pkts.length - 1]!;
  const fin: Pkt = { seq: (last.seq + last.len) >>> 0, len: 0, flags: TCP_ACK | TCP_FIN, id: (last.id ?? 0) + 1 };
  for (const p of [...pkts, fin]) {
    const f = build(v6, p);
    gro.receive(f, 0, f.length, false);
  }
  gro.flush();
  expect(sawFin).toBe(true);
  return got;
}

describe('GRO against the Linux selftest matrix (vectors.md §6.3)', () => {
  for (const [name, versions, pkts, expected] of MATRIX) {
    for (const v of versions) {
      test(`${v} ${name} → [${expected.join(', ')}]`, () => {
        expect(run(v === 'v6', pkts()).payloads).toEqual(expected);
      });
    }
  }
  for (const v of ['v4', 'v6'] as const) {
    const { max, rem, pkts } = largeRows(v === 'v6');
    test(`${v} large: up to the IP maximum coalesces → [${max}, ${rem}]`, () => {
      expect(run(v === 'v6', pkts(rem)).payloads).toEqual([max, rem]);
    });
    test(`${v} large: one byte more does not → [${16 * MSS}, ${rem + 1}, ${rem + 1}]`, () => {
      expect(run(v === 'v6', pkts(rem + 1)).payloads).toEqual([16 * MSS, rem + 1, rem + 1]);
    });
  }
});

describe('GroEngine output', () => {
  test('merged checksums from the segments\' own checksums stay right at odd payload offsets (property)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 700 }), fc.integer({ min: 2, max: 9 }), fc.integer({ min: 0, max: 0xffffffff }), (v6, mss, n, seq0) => {
        const lens = [...Array<number>(n - 1).fill(mss), Math.max(1, mss - 3)];
        const pkts = data(lens).map((p) => ({ ...p, seq: (p.seq + seq0) >>> 0 }));
        const got = run(v6, pkts);
        expect(got.payloads).toEqual([lens.reduce((a, b) => a + b, 0)]);
        const f = got.frames[0]!;
        const l4 = v6 ? 54 : 34;
        expect(verifyL4Checksum(f, 14, v6, 6, l4, f.length - l4)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('a merged packet has the concatenated payload, fixed lengths and valid checksums', () => {
    for (const v6 of [false, true]) {
      const got = run(v6, data([100, 100, 100], (i) => ({ flags: i === 2 ? TCP_ACK | TCP_PSH : TCP_ACK })));
      expect(got.payloads).toEqual([300]);
      expect(got.segments).toEqual([3]);
      const f = got.frames[0]!;
      const l4 = v6 ? 54 : 34;
      if (!v6) expect(verifyIpv4HeaderChecksum(f, 14)).toBe(true);
      expect(verifyL4Checksum(f, 14, v6, 6, l4, f.length - l4)).toBe(true);
      expect(f[l4 + 13]).toBe(TCP_ACK | TCP_PSH);
      expect(Array.from(f.subarray(l4 + 20))).toEqual(Array.from({ length: 300 }, (_, i) => i & 0xff));
    }
  });
  test('flows are kept apart and held packets leave at flush() in arrival order', () => {
    const out: number[] = [];
    const gro = new GroEngine({ deliver: (f, off) => out.push(f[off + 14 + 20 + 1]!) }, { maxFlows: 2 });
    const a = build(false, { seq: 0, len: 100 });
    const b = build(false, { seq: 0, len: 100 });
    b[14 + 20 + 1] = 77; // another source port
    const c = build(false, { seq: 0, len: 100 });
    c[14 + 20 + 1] = 78;
    for (const f of [a, b]) fillL4Checksum(f, 14, false, 6, 34, f.length - 34);
    fillL4Checksum(c, 14, false, 6, 34, c.length - 34);
    gro.receive(a, 0, a.length, false);
    gro.receive(b, 0, b.length, false);
    expect(out).toEqual([]);
    gro.receive(c, 0, c.length, false); // evicts the oldest flow
    expect(out).toEqual([1500 & 0xff]);
    gro.flush();
    expect(out).toEqual([1500 & 0xff, 77, 78]);
  });
  test('a packet bigger than a slot is passed whole, not held clipped (IPv6 payload length 65535)', () => {
    const out: Uint8Array[] = [];
    const gro = new GroEngine({ deliver: (f, off, len) => out.push(f.slice(off, off + len)) });
    const f = build(true, { seq: 0, len: 65535 - 20 });
    fillL4Checksum(f, 14, true, 6, 54, f.length - 54);
    expect(f.length).toBe(14 + 40 + 65535);
    gro.receive(f, 0, f.length, false);
    gro.flush();
    expect(out).toHaveLength(1);
    expect(out[0]).toEqual(f);
  });
  test('segments of one flow on two VLANs (802.1Q in metadata, not in the bytes) are not merged', () => {
    const out: { segments: number; tag: number }[] = [];
    const gro = new GroEngine({ deliver: (_f, _o, _l, segments, tag) => out.push({ segments, tag }) });
    const seg = (seq: number): Uint8Array => {
      const f = build(false, { seq, len: MSS });
      fillL4Checksum(f, 14, false, 6, 34, f.length - 34);
      return f;
    };
    const f0 = seg(0);
    const f1 = seg(MSS);
    gro.receive(f0, 0, f0.length, false, 1, vlanKeyOf(true, 10 << 4));
    gro.receive(f1, 0, f1.length, false, 2, vlanKeyOf(true, 20 << 4)); // same bytes, next seq, VLAN 20
    gro.flush();
    expect(out).toEqual([
      { segments: 1, tag: 1 },
      { segments: 1, tag: 2 },
    ]);
    out.length = 0;
    const f2 = seg(2 * MSS);
    gro.receive(f1, 0, f1.length, false, 3, vlanKeyOf(true, 10 << 4));
    gro.receive(f2, 0, f2.length, false, 4, vlanKeyOf(true, 10 << 4)); // same VLAN: merged
    gro.receive(f0, 0, f0.length, false, 5, vlanKeyOf(false, 10 << 4)); // untagged is its own flow
    gro.flush();
    expect(out).toEqual([
      { segments: 2, tag: 3 },
      { segments: 1, tag: 5 },
    ]);
  });
  test('non-TCP and unparsable frames pass straight through', () => {
    const out: number[] = [];
    const gro = new GroEngine({ deliver: (_f, _o, len) => out.push(len) });
    const junk = new Uint8Array(10);
    gro.receive(junk, 0, 10, false);
    expect(out).toEqual([10]);
  });
});
