// The receive side of the lab's traffic apps without a lab: frames the generator's send units
// hold, fed straight to the demux, so each case (reassembly, a lost or corrupt fragment, an
// orphan, coalesced records, a foreign frame) is exact.
import { describe, expect, test } from 'vitest';
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
