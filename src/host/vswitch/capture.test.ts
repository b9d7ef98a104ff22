// The per-port capture hook: ingress once per frame a port sends, egress once per port that took
// it, with the 802.1Q PPI as that port receives it; nothing for frames a port filtered or
// refused; setCapture(null) switches it off.
import { describe, expect, test } from 'vitest';
import * as W from '../../wire/index.js';
import { macAt, parseMac, PORT_CAPTURE_EGRESS, PORT_CAPTURE_INGRESS, PortFrameMeta, type PortCaptureSink, type SwitchPort } from './port.js';
import { VSwitch } from './vswitch.js';
import { taggedFrame as frame } from './_fixtures.js';

class Port implements SwitchPort {
  packetFilter = W.NDIS_PACKET_TYPE_DIRECTED | W.NDIS_PACKET_TYPE_BROADCAST;
  readonly macNumber: number;
  constructor(readonly name: string, mac: string, private readonly take = true) {
    this.macNumber = macAt(parseMac(mac), 0);
  }
  deliver(): boolean {
    return this.take;
  }
}

class Sink implements PortCaptureSink {
  readonly seen: string[] = [];
  frame(b: Uint8Array, off: number, len: number, meta: PortFrameMeta, dir: number): void {
    this.seen.push(`${dir === PORT_CAPTURE_INGRESS ? 'in' : dir === PORT_CAPTURE_EGRESS ? 'out' : '?'}:${b[off + 15]}:${len}:${meta.hasVlan ? W.vlanId(meta.vlanTci) : '-'}`);
  }
}


const MA = '00:15:5d:00:00:01', MB = '00:15:5d:00:00:02', MC = '00:15:5d:00:00:03', BC = 'ff:ff:ff:ff:ff:ff';

describe('switch port capture hook', () => {
  test('ingress at the sender, egress at each port that took the frame, with the VLAN as delivered', () => {
    const sw = new VSwitch();
    const a = sw.addPort(new Port('a', MA), { vlan: { trunk: [10] } });
    const b = sw.addPort(new Port('b', MB), { vlan: 10 });
    const c = sw.addPort(new Port('c', MC, false), { vlan: 10 });
    const [sa, sb, sc] = [new Sink(), new Sink(), new Sink()];
    a.setCapture(sa);
    b.setCapture(sb);
    c.setCapture(sc);
    const meta = new PortFrameMeta();
    meta.hasVlan = true;
    meta.vlanTci = W.packVlan(5, 0, 10);
    expect(a.forward(frame(BC, MA, 1), 0, 60, meta)).toBe(1); // c refuses: no egress record for c
    expect(sa.seen).toEqual(['in:1:60:10']);
    expect(sb.seen).toEqual(['out:1:60:-']); // access port: untagged
    expect(sc.seen).toEqual([]);
    b.forward(frame(MA, MB, 2), 0, 60, new PortFrameMeta()); // to the trunk: tagged with b's VLAN
    expect(sa.seen).toEqual(['in:1:60:10', 'out:2:60:10']);
    expect(sb.seen).toEqual(['out:1:60:-', 'in:2:60:-']);
  });

  test('a frame the packet filter refuses is not captured at that port; setCapture(null) stops capture', () => {
    const sw = new VSwitch();
    const a = sw.addPort(new Port('a', MA));
    const pb = new Port('b', MB);
    const b = sw.addPort(pb);
    const sb = new Sink();
    b.setCapture(sb);
    pb.packetFilter = 0;
    a.forward(frame(BC, MA, 1), 0, 60, new PortFrameMeta());
    expect(sb.seen).toEqual([]);
    pb.packetFilter = W.NDIS_PACKET_TYPE_BROADCAST;
    a.forward(frame(BC, MA, 2), 0, 60, new PortFrameMeta());
    b.setCapture(null);
    a.forward(frame(BC, MA, 3), 0, 60, new PortFrameMeta());
    expect(sb.seen).toEqual(['out:2:60:-']);
  });
});
