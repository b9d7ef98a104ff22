// VmNic's receive side with fragment lists (Contract B): a sink turns lists on and reads them in
// place; the capture and the port get a list gathered into one run; the mode follows the sinks and
// survives a re-probe. The driver is a stand-in that records setRxFragments and hands frames up.
import { describe, expect, test } from 'vitest';
import type { FrameMeta, FramePort } from '../core/index.js';
import { newRxMeta, RX_F_FRAGS, RX_F_RSC } from '../guest/index.js';
import { NVSP_RSC_MAX } from '../wire/index.js';
import { buildTcp4Frame, FrameSpec } from '../packet/index.js';
import type { NicCapture } from './capture/guest-capture.js';
import type { GuestNicDriver, LabFrameHandler } from './nic-driver.js';
import { writePayload } from './traffic/payload.js';
import { TrafficSink } from './traffic/sink.js';
import { VmNic } from './vm-nic.js';

class StandInDriver {
  onFrame: LabFrameHandler = () => {};
  lists: boolean[] = [];
  setRxFragments(on: boolean): void {
    this.lists.push(on);
  }
}

/** A TCP packet of `flow` carrying records of 1460 B, cut into fragments of `cut` bytes in a shared buffer. */
function rscList(flow: number, records: number, cut: number): { frame: Uint8Array; u8: Uint8Array; meta: ReturnType<typeof newRxMeta> } {
  const payload = new Uint8Array(records * 1460);
  for (let r = 0; r < records; r++) writePayload(payload, r * 1460, 1460, flow, r);
  const s = new FrameSpec();
  s.src4 = 0x0a000001;
  s.dst4 = 0x0a000002;
  s.srcPort = 4000;
  s.dstPort = 5001;
  const out = new Uint8Array(payload.length + 100);
  const frame = out.slice(0, buildTcp4Frame(out, 0, s, payload, 0, payload.length));
  const u8 = new Uint8Array(new SharedArrayBuffer(2 * frame.length + 4096));
  const meta = newRxMeta(0, NVSP_RSC_MAX);
  let at = 100;
  let n = 0;
  for (let o = 0; o < frame.length; o += cut, n++) {
    const k = Math.min(cut, frame.length - o);
    u8.set(frame.subarray(o, o + k), at);
    meta.fragOff[n] = at;
    meta.fragLen[n] = k;
    at += k + 60; // each fragment behind its RNDIS header in its own section
  }
  meta.fragments = n;
  meta.flags = RX_F_RSC | RX_F_FRAGS;
  return { frame, u8, meta };
}

const deliver = (d: StandInDriver, l: ReturnType<typeof rscList>): void => d.onFrame(l.u8, l.meta.fragOff[0]!, l.frame.length, l.meta);

describe('VmNic receive with fragment lists', () => {
  test('a sink turns lists on and reads them in place; without sinks they go off; a re-probed driver gets the mode', () => {
    const d = new StandInDriver();
    const nic = new VmNic('eth0', d as unknown as GuestNicDriver);
    const sink = new TrafficSink({ flow: 5, count: 100 });
    nic.addSink(sink);
    nic.addSink(new TrafficSink({ flow: 6, count: 100 }));
    expect(d.lists).toEqual([true]);
    deliver(d, rscList(5, 44, 1524));
    expect(sink.report()).toMatchObject({ unique: 44, corrupt: 0, frames: 1, coalesced: 1 });
    expect(nic.counters).toMatchObject({ rx_lists_in_place: 1, rx_lists_gathered: 0 });
    const d2 = new StandInDriver();
    nic.replaceDriver(d2 as unknown as GuestNicDriver);
    expect(d2.lists).toEqual([true]);
    nic.removeSink(sink);
    expect(d2.lists).toEqual([true]);
    nic.removeSink(nic['demux'].sinks[0]!);
    expect(d2.lists).toEqual([true, false]);
  });

  test('a NIC whose frames another consumer took over (a TAP bridge) leaves that consumer\'s list mode alone', () => {
    const d = new StandInDriver();
    const nic = new VmNic('eth0', d as unknown as GuestNicDriver);
    d.onFrame = () => {}; // the TAP bridge's handler
    nic.addSink(new TrafficSink({ flow: 5, count: 100 }));
    const d2 = new StandInDriver();
    nic.replaceDriver(d2 as unknown as GuestNicDriver);
    expect([d.lists, d2.lists]).toEqual([[], []]);
  });

  test('the port and the capture get a list gathered into one run, byte for byte', () => {
    const d = new StandInDriver();
    const nic = new VmNic('eth0', d as unknown as GuestNicDriver);
    const written: Uint8Array[] = [];
    const port: FramePort = {
      tryWrite: (b: Uint8Array, off: number, len: number, _m: FrameMeta) => (written.push(b.slice(off, off + len)), true),
      poll: () => 0,
      waitReadable: () => false,
      readable: async () => false,
    };
    nic.attachPort(port);
    nic.addSink(new TrafficSink({ flow: 5, count: 100 }));
    const other = rscList(9, 30, 1000); // no sink for flow 9: the port's
    deliver(d, other);
    expect(written).toHaveLength(1);
    expect(written[0]).toEqual(other.frame);
    const captured: Uint8Array[] = [];
    nic.capture = { guestRx: (b: Uint8Array, off: number, len: number) => void captured.push(b.slice(off, off + len)) } as unknown as NicCapture;
    const mine = rscList(5, 10, 700);
    deliver(d, mine);
    expect(captured).toHaveLength(1);
    expect(captured[0]).toEqual(mine.frame);
    expect(nic.counters).toMatchObject({ rx_lists_in_place: 0, rx_lists_gathered: 2, rx_unclaimed: 0 });
    expect(written).toHaveLength(1); // the sink took the second one (gathered, for the capture)
  });
});
