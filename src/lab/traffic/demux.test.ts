// The receive side of the lab's traffic apps without a lab: frames the generator's send units
// hold, fed straight to the demux, so each case (reassembly, a lost or corrupt fragment, an
// orphan, coalesced records, a foreign frame) is exact.
import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { buildTcp4Frame, FrameSpec } from '../../packet/index.js';
import { writePayload } from './payload.js';
import { SinkDemux, type DemuxCounters } from './demux.js';
import { buildSendUnit, datagramId } from './send-unit.js';
import { TrafficSink } from './sink.js';
import { generatorSpec, type GeneratorOptions } from './spec.js';

const MAC = '00:15:5d:00:00:01';

function setup(o: Partial<GeneratorOptions>, size: number): { frames: Uint8Array[]; sink: TrafficSink; demux: SinkDemux; counters: DemuxCounters } {
  const spec = generatorSpec({ flow: 7, dstMac: '00:15:5d:00:00:02', sizes: [size], count: 100, ...o }, MAC, 1500);
  const u = buildSendUnit(spec, size);
  const counters: DemuxCounters = { rx_frag_orphan: 0 };
  const demux = new SinkDemux(counters);
  const sink = new TrafficSink({ flow: 7, count: 100 });
  demux.sinks.push(sink);
  // The generator patches the IP id per send; seq 0's id is what the templates need here.
  const id = datagramId(7, 0);
  u.frames.forEach((f, k) => {
    const at = u.idAt[k];
    if (at === undefined) return;
    if (spec.family === 'ipv6') new DataView(f.buffer).setUint32(at, id);
    else new DataView(f.buffer).setUint16(at, id & 0xffff);
  });
  return { frames: u.frames.map((f) => f.slice()), sink, demux, counters };
}

const feed = (d: SinkDemux, f: Uint8Array): boolean => d.receive(f, 0, f.length);

describe('SinkDemux', () => {
  test.each(['ipv4', 'ipv6'] as const)('%s: a datagram counts once, when its last fragment arrives', (family) => {
    const { frames, sink, demux } = setup({ family, fragment: true }, 4000);
    expect(frames).toHaveLength(3);
    expect(feed(demux, frames[0]!)).toBe(true);
    expect(feed(demux, frames[1]!)).toBe(true);
    expect(sink.unique).toBe(0);
    expect(feed(demux, frames[2]!)).toBe(true);
    expect(sink.report()).toMatchObject({ unique: 1, delivered: 1, corrupt: 0, fragments: 3, frames: 3 });
  });

  test('a flipped byte in a later fragment makes the datagram corrupt, not delivered', () => {
    const { frames, sink, demux } = setup({ fragment: true }, 4000);
    frames[1]![frames[1]!.length - 5]! ^= 0x10;
    for (const f of frames) feed(demux, f);
    expect(sink.report()).toMatchObject({ unique: 0, corrupt: 1, fragments: 3 });
  });

  test('a lost middle fragment: the datagram never completes; fragments without a first are orphans', () => {
    const { frames, sink, demux, counters } = setup({ fragment: true }, 4000);
    feed(demux, frames[0]!);
    feed(demux, frames[2]!);
    expect(sink.report()).toMatchObject({ unique: 0, corrupt: 0, delivered: 0 });
    const other = setup({ fragment: true }, 4000);
    expect(feed(other.demux, other.frames[1]!)).toBe(false);
    expect(other.counters.rx_frag_orphan).toBe(1);
    expect(counters.rx_frag_orphan).toBe(0);
  });

  test('an LSO super-frame whole (as RSC delivers it) is one frame of k records, coalesced', () => {
    const { frames, sink, demux } = setup({ protocol: 'tcp', lso: true }, 30000);
    feed(demux, frames[0]!);
    // (30000 - 54) / 1460 = 20 records; all carry seq 0 in the unpatched template: 1 unique + 19 duplicates.
    expect(sink.report()).toMatchObject({ frames: 1, coalesced: 1, delivered: 20, unique: 1, duplicated: 19, corrupt: 0 });
  });

  test('ICMP echo and VLAN-tagged frames are found; another flow or a non-lab frame is not claimed', () => {
    for (const o of [{ protocol: 'icmp' as const }, { protocol: 'icmp' as const, family: 'ipv6' as const }, { vlan: 10 }]) {
      const { frames, sink, demux } = setup(o, 300);
      expect(feed(demux, frames[0]!), JSON.stringify(o)).toBe(true);
      expect(sink.unique, JSON.stringify(o)).toBe(1);
    }
    const { frames, demux, sink } = setup({}, 300);
    const foreign = frames[0]!.slice();
    foreign[frames[0]!.length - 300 + 42 + 7] = 99; // the payload's flow field (last byte) → flow 99
    expect(feed(demux, foreign)).toBe(false);
    const arp = new Uint8Array(60);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(feed(demux, arp)).toBe(false);
    expect(sink.report().frames).toBe(0);
  });
});

describe('SinkDemux.receiveList: an RSC packet as a fragment list (Contract B)', () => {
  // Records of these lengths back to back in one TCP packet, as RSC coalesces them.
  const RECORDS = [100, 1448, 16, 3000, 77, 1448, 1448];

  function tcpFrame(flow: number): Uint8Array {
    const total = RECORDS.reduce((a, b) => a + b, 0);
    const payload = new Uint8Array(total);
    let at = 0;
    RECORDS.forEach((n, seq) => {
      writePayload(payload, at, n, flow, seq);
      at += n;
    });
    const s = new FrameSpec();
    s.src4 = 0x0a000001;
    s.dst4 = 0x0a000002;
    s.srcPort = 4000;
    s.dstPort = 5001;
    const out = new Uint8Array(total + 100);
    return out.slice(0, buildTcp4Frame(out, 0, s, payload, 0, total));
  }

  /** The frame cut at `cuts`, its pieces placed out of order with gaps in one shared buffer (a receive buffer). */
  function scatter(f: Uint8Array, cuts: readonly number[]): { buf: Uint8Array; meta: { fragOff: Int32Array; fragLen: Int32Array; fragments: number } } {
    const edges = [0, ...cuts, f.length];
    const n = edges.length - 1;
    const buf = new Uint8Array(new SharedArrayBuffer(f.length + 64 * n + 64));
    const fragOff = new Int32Array(n);
    const fragLen = new Int32Array(n);
    let at = 8;
    for (let i = n - 1; i >= 0; i--) {
      fragOff[i] = at;
      fragLen[i] = edges[i + 1]! - edges[i]!;
      buf.set(f.subarray(edges[i]!, edges[i + 1]!), at);
      at += fragLen[i]! + 8 + (i % 5);
    }
    return { buf, meta: { fragOff, fragLen, fragments: n } };
  }

  const fresh = (): { sink: TrafficSink; demux: SinkDemux } => {
    const demux = new SinkDemux({ rx_frag_orphan: 0 });
    const sink = new TrafficSink({ flow: 7, count: 100 });
    demux.sinks.push(sink);
    return { sink, demux };
  };

  const HEADERS = 14 + 20 + 20;
  const cutsArb = fc.uniqueArray(fc.integer({ min: 1, max: 8600 }), { minLength: 1, maxLength: 12 }).map((c) => c.sort((a, b) => a - b));

  propTest.prop([cutsArb, fc.option(fc.integer({ min: HEADERS + 16, max: 8600 }), { nil: undefined })], { numRuns: 1000 })(
    'cut anywhere, a flipped byte or not: the same report as the gathered frame, read in place whenever the first fragment holds the headers',
    (cuts, flip) => {
      const f = tcpFrame(7);
      expect(f.length).toBe(HEADERS + 7537);
      if (flip !== undefined && flip < f.length) f[flip]! ^= 0x20;
      const ref = fresh();
      expect(ref.demux.receive(f, 0, f.length)).toBe(true);
      const { buf, meta } = scatter(f, cuts.filter((c) => c < f.length));
      const got = fresh();
      const inPlace = got.demux.receiveList(buf, f.length, meta);
      expect(inPlace).toBe(meta.fragLen[0]! >= HEADERS + 16);
      if (!inPlace) {
        const one = new Uint8Array(f.length);
        let at = 0;
        for (let i = 0; i < meta.fragments; i++) {
          one.set(buf.subarray(meta.fragOff[i]!, meta.fragOff[i]! + meta.fragLen[i]!), at);
          at += meta.fragLen[i]!;
        }
        expect(got.demux.receive(one, 0, one.length)).toBe(true);
      }
      expect(got.sink.report()).toEqual(ref.sink.report());
      if (flip === undefined || flip >= f.length) expect(ref.sink.report()).toMatchObject({ unique: RECORDS.length, corrupt: 0, coalesced: 1 });
      else {
        // a flip in a seq field's low byte makes another valid record (seq < count); anywhere else the record is corrupt
        let r = flip - HEADERS;
        for (const n of RECORDS) if (r >= n) r -= n; else break;
        expect(ref.sink.report().corrupt).toBe(r === 11 ? 0 : 1);
      }
    },
  );

  test('a record header split 3 | 13 and a record split over three fragments are read in place', () => {
    const f = tcpFrame(7);
    const r2 = HEADERS + 100 + 1448; // the 16-byte record
    const { buf, meta } = scatter(f, [HEADERS + 100 + 3, HEADERS + 100 + 700, r2 + 5, r2 + 16 + 1000]);
    const { sink, demux } = fresh();
    expect(demux.receiveList(buf, f.length, meta)).toBe(true);
    expect(sink.report()).toMatchObject({ unique: RECORDS.length, delivered: RECORDS.length, corrupt: 0, reordered: 0, frames: 1, coalesced: 1, bytes: f.length });
  });

  test('a list that is not lab traffic, or of a flow without a sink, is left to the caller', () => {
    const f = tcpFrame(8);
    const { buf, meta } = scatter(f, [2000]);
    const { sink, demux } = fresh();
    expect(demux.receiveList(buf, f.length, meta)).toBe(false);
    expect(sink.report().frames).toBe(0);
  });
});
