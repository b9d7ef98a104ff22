import { describe, expect, test } from 'vitest';
import { ManualClock } from '../../core/index.js';
import * as W from '../../wire/index.js';
import { accepts, VSwitch } from './vswitch.js';
import { macAt, parseMac, PortFrameMeta, type SwitchPort } from './port.js';
import { taggedFrame as frame } from './_fixtures.js';

class FakePort implements SwitchPort {
  readonly got: string[] = [];
  packetFilter = W.NDIS_PACKET_TYPE_DIRECTED | W.NDIS_PACKET_TYPE_BROADCAST | W.NDIS_PACKET_TYPE_ALL_MULTICAST;
  readonly macNumber: number;
  constructor(readonly name: string, mac: string, private readonly take = true) {
    this.macNumber = macAt(parseMac(mac), 0);
  }
  deliver(b: Uint8Array, off: number): boolean {
    this.got.push(`${b[off + 15]}`);
    return this.take;
  }
}


const MA = '00:15:5d:00:00:01', MB = '00:15:5d:00:00:02', MC = '00:15:5d:00:00:03';
const BCAST = 'ff:ff:ff:ff:ff:ff', MCAST = '01:00:5e:00:00:01';

describe('VSwitch', () => {
  test('unknown unicast floods, then the switch learns and sends only to the owner', () => {
    const sw = new VSwitch();
    const a = new FakePort('a', MA), b = new FakePort('b', MB), c = new FakePort('c', MC);
    const [ha, hb] = [sw.addPort(a), sw.addPort(b), sw.addPort(c)];
    const meta = new PortFrameMeta();
    ha!.forward(frame(MB, MA, 1), 0, 60, meta); // B unknown: flooded; C's filter refuses a frame not for it
    expect([a.got, b.got, c.got]).toEqual([[], ['1'], []]);
    expect(sw.portStats()['c']).toMatchObject({ tx_filtered: 1 });
    hb!.forward(frame(MA, MB, 2), 0, 60, meta); // A learned: only A
    expect(a.got).toEqual(['2']);
    c.packetFilter = W.NDIS_PACKET_TYPE_PROMISCUOUS;
    ha!.forward(frame(MB, MA, 3), 0, 60, meta); // B learned now: a promiscuous C does not see it (no mirroring)
    expect([b.got, c.got]).toEqual([['1', '3'], []]);
    expect(sw.table().get(macAt(parseMac(MA), 0))).toBe('a');
  });

  test('MAC address spoofing off (a VM port by default): another source MAC is dropped, counted and not learned; on: it passes', () => {
    const sw = new VSwitch();
    const a = new FakePort('a', MA), b = new FakePort('b', MB), c = new FakePort('c', MC);
    const ha = sw.addPort(a, { macAddressSpoofing: false });
    const hb = sw.addPort(b, { macAddressSpoofing: true });
    sw.addPort(c); // no setting: an external port, never checked
    const meta = new PortFrameMeta();
    c.packetFilter = W.NDIS_PACKET_TYPE_PROMISCUOUS;
    expect(ha.forward(frame(BCAST, MC, 1), 0, 60, meta)).toBe(0); // A claims to be C
    expect(ha.forward(frame(MB, MC, 2), 0, 60, meta)).toBe(0);
    expect([b.got, c.got]).toEqual([[], []]);
    expect(sw.portStats()['a']).toMatchObject({ mac_spoofing_dropped: 2, rx_frames: 2 });
    expect(sw.table().has(macAt(parseMac(MC), 0))).toBe(false); // nothing learned from a refused frame
    expect(ha.forward(frame(BCAST, MA, 3), 0, 60, meta)).toBe(2); // its own MAC: flooded to B and C
    expect(hb.forward(frame(MA, MC, 4), 0, 60, meta)).toBe(1); // spoofing allowed on B
    expect(a.got).toEqual(['4']);
    expect(sw.portStats()['b']!['mac_spoofing_dropped']).toBe(0);
  });

  test('filter matrix: directed, broadcast, multicast, promiscuous, 0', () => {
    const own = macAt(parseMac(MA), 0), other = macAt(parseMac(MB), 0);
    const b = macAt(parseMac(BCAST), 0), m = macAt(parseMac(MCAST), 0);
    const { NDIS_PACKET_TYPE_DIRECTED: D, NDIS_PACKET_TYPE_BROADCAST: BC, NDIS_PACKET_TYPE_ALL_MULTICAST: AM, NDIS_PACKET_TYPE_MULTICAST: MC1, NDIS_PACKET_TYPE_PROMISCUOUS: P } = W;
    const rows: [number, boolean, boolean, boolean, boolean][] = [
      // filter, own unicast, other unicast, broadcast, multicast
      [0, false, false, false, false],
      [D, true, false, false, false],
      [BC, false, false, true, false],
      [AM, false, false, false, true],
      [MC1, false, false, false, true],
      [D | BC | AM, true, false, true, true],
      [P, true, true, true, true],
    ];
    for (const [f, ...want] of rows) {
      expect([accepts(f, own, own, false), accepts(f, own, other, false), accepts(f, own, b, true), accepts(f, own, m, true)]).toEqual(want);
    }
  });

  test('broadcast and multicast flood to every other port; a refusing port is counted', () => {
    const sw = new VSwitch();
    const a = new FakePort('a', MA), b = new FakePort('b', MB, false), c = new FakePort('c', MC);
    const ha = sw.addPort(a);
    sw.addPort(b);
    sw.addPort(c);
    expect(ha.forward(frame(BCAST, MA, 7), 0, 60, new PortFrameMeta())).toBe(1);
    expect(ha.forward(frame(MCAST, MA, 8), 0, 60, new PortFrameMeta())).toBe(1);
    expect([a.got, b.got, c.got]).toEqual([[], ['7', '8'], ['7', '8']]);
    expect(sw.portStats()['b']).toMatchObject({ tx_dropped: 2, tx_frames: 0 });
    expect(sw.portStats()['a']).toMatchObject({ rx_frames: 2, flooded: 2 });
  });

  test('the MAC table is bounded: a new source MAC past maxMacs is not learned, counted, and frames to it flood', () => {
    const sw = new VSwitch({ maxMacs: 2 });
    const a = new FakePort('a', MA), b = new FakePort('b', MB), c = new FakePort('c', MC);
    const ha = sw.addPort(a), hb = sw.addPort(b);
    sw.addPort(c);
    c.packetFilter = W.NDIS_PACKET_TYPE_PROMISCUOUS;
    const meta = new PortFrameMeta();
    ha.forward(frame(BCAST, MA, 1), 0, 60, meta);
    hb.forward(frame(BCAST, MB, 2), 0, 60, meta);
    hb.forward(frame(BCAST, MC, 3), 0, 60, meta); // a third source MAC: the table is full
    expect(sw.table().size).toBe(2);
    expect(sw.table().has(macAt(parseMac(MC), 0))).toBe(false);
    expect(sw.portStats()['b']).toMatchObject({ learn_refused: 1 });
    ha.forward(frame(MB, MA, 4), 0, 60, meta); // learned: only b
    ha.forward(frame(MC, MA, 5), 0, 60, meta); // not learned: flooded (c is promiscuous)
    expect(c.got).toEqual(['1', '2', '3', '5']); // broadcasts, then only the frame to the unlearned MAC
  });

  test('learned MACs age out; a removed port is forgotten', () => {
    const clock = new ManualClock();
    const sw = new VSwitch({ clock, ageingMs: 1000 });
    const a = new FakePort('a', MA), b = new FakePort('b', MB), c = new FakePort('c', MC);
    const ha = sw.addPort(a), hb = sw.addPort(b);
    sw.addPort(c);
    c.packetFilter = W.NDIS_PACKET_TYPE_PROMISCUOUS;
    hb.forward(frame(MA, MB, 1), 0, 60, new PortFrameMeta()); // learns B
    ha.forward(frame(MB, MA, 2), 0, 60, new PortFrameMeta());
    expect(c.got).toEqual(['1']); // B known: not flooded
    clock.advance(1001);
    ha.forward(frame(MB, MA, 3), 0, 60, new PortFrameMeta());
    expect(c.got).toEqual(['1', '3']); // aged: flooded again
    hb.remove();
    expect(sw.table().has(macAt(parseMac(MB), 0))).toBe(false);
  });

  test('a full table makes room from aged entries: a spray of source MACs does not lock learning out for good', () => {
    const clock = new ManualClock();
    const sw = new VSwitch({ clock, ageingMs: 1000, maxMacs: 2 });
    const a = new FakePort('a', MA), b = new FakePort('b', MB), c = new FakePort('c', MC);
    const ha = sw.addPort(a), hb = sw.addPort(b);
    sw.addPort(c);
    c.packetFilter = W.NDIS_PACKET_TYPE_PROMISCUOUS;
    const meta = new PortFrameMeta();
    ha.forward(frame(BCAST, MA, 1), 0, 60, meta); // a's MAC and one it made up fill the table
    ha.forward(frame(BCAST, MC, 2), 0, 60, meta);
    hb.forward(frame(BCAST, MB, 3), 0, 60, meta); // full, nothing aged: refused
    expect(sw.portStats()['b']).toMatchObject({ learn_refused: 1 });
    clock.advance(500);
    ha.forward(frame(BCAST, MA, 4), 0, 60, meta); // a stays fresh; MC is not sent again
    clock.advance(600); // MC last seen 1100 ms ago: aged
    hb.forward(frame(BCAST, MB, 5), 0, 60, meta);
    expect([...sw.table().keys()].sort()).toEqual([macAt(parseMac(MA), 0), macAt(parseMac(MB), 0)].sort());
    expect(sw.portStats()['b']).toMatchObject({ learn_refused: 1 });
    ha.forward(frame(MB, MA, 6), 0, 60, meta); // learned: straight to b, not flooded to c
    expect(b.got).toContain('6');
    expect(c.got).not.toContain('6');
  });
});
