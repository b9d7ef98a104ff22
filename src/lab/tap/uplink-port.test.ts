// The uplink as an 802.1Q trunk, without root: UplinkPort against a fake TAP port and a fake switch
// handle (tag bytes inserted on deliver, tag taken into the meta on receive, a short tagged frame
// counted), then on a real switch with the uplink a trunk carrying VLAN 10 and an access port on 10.
import { describe, expect, it } from 'vitest';
import { newFrameMeta, type FrameHandler, type FrameMeta } from '../../core/index.js';
import { PortFrameMeta, VSwitch, type SwitchPort, type SwitchPortHandle } from '../../host/index.js';
import { NDIS_PACKET_TYPE_DIRECTED, packVlan } from '../../wire/index.js';
import { UplinkPort, type TaggingFramePort } from './uplink-port.js';

/** A TAP port that records what is written (inserting the tag as TapPort does) and hands queued frames to poll(). */
class FakeTap implements TaggingFramePort {
  readonly written: number[][] = [];
  readonly queue: Uint8Array[] = [];
  private readonly meta = newFrameMeta();
  /** Every frame read lands at this offset of one buffer, as in the TAP's read buffer. */
  readonly buf = new Uint8Array(2048);

  tryWrite(b: Uint8Array, off: number, len: number, _meta: FrameMeta, tci = 0): boolean {
    const f = [...b.subarray(off, off + len)];
    if (tci > 0) f.splice(12, 0, 0x81, 0x00, tci >> 8, tci & 0xff);
    this.written.push(f);
    return true;
  }

  poll(handler: FrameHandler, budget: number): number {
    let n = 0;
    for (; n < budget && this.queue.length > 0; n++) {
      const f = this.queue.shift()!;
      this.buf.set(f, 10);
      handler(this.buf, 10, f.length, this.meta);
    }
    return n;
  }

  waitReadable(): boolean {
    return false;
  }

  readable(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

const DST = [0x02, 0, 0, 0, 0, 0x02];
const SRC = [0x02, 0, 0, 0, 0, 0x01];

/** dst, src, then `rest` (EtherType or tag onward), padded to `len` with a counting pattern. */
function frame(rest: number[], len = 60): Uint8Array {
  const f = new Uint8Array(len);
  f.set([...DST, ...SRC, ...rest].slice(0, len));
  for (let i = 12 + rest.length; i < len; i++) f[i] = i & 0xff;
  return f;
}

/** A switch handle that records what the port forwards. */
function fakeHandle(): { handle: SwitchPortHandle; got: { bytes: number[]; hasVlan: boolean; vlanTci: number }[] } {
  const got: { bytes: number[]; hasVlan: boolean; vlanTci: number }[] = [];
  const handle = {
    forward(b: Uint8Array, off: number, len: number, m: PortFrameMeta): number {
      got.push({ bytes: [...b.subarray(off, off + len)], hasVlan: m.hasVlan, vlanTci: m.vlanTci });
      return 1;
    },
  } as unknown as SwitchPortHandle;
  return { handle, got };
}

/** An UplinkPort on a fake TAP whose switch handle records what it forwards. */
function receiving(): { tap: FakeTap; up: UplinkPort; got: ReturnType<typeof fakeHandle>['got'] } {
  const tap = new FakeTap();
  const up = new UplinkPort('up', tap);
  const { handle, got } = fakeHandle();
  up.handle = handle;
  return { tap, up, got };
}

describe('UplinkPort deliver (switch → kernel)', () => {
  it('inserts the 802.1Q tag with the TCI made from the PPI value (priority 5, DEI 1, VLAN 10)', () => {
    const tap = new FakeTap();
    const up = new UplinkPort('up', tap);
    const m = new PortFrameMeta();
    m.hasVlan = true;
    m.vlanTci = packVlan(5, 1, 10);
    const f = frame([0x08, 0x00, 0x45]);
    expect(up.deliver(f, 0, f.length, m)).toBe(true);
    const w = tap.written[0]!;
    expect(w.length).toBe(64);
    expect(w.slice(0, 12)).toEqual([...DST, ...SRC]);
    // TPID 0x8100, TCI = 101 1 000000001010 = 0xb00a, then the frame's own EtherType and payload.
    expect(w.slice(12, 19)).toEqual([0x81, 0x00, 0xb0, 0x0a, 0x08, 0x00, 0x45]);
    expect(w.slice(16)).toEqual([...f.subarray(12)]);
    expect(up.counters).toMatchObject({ tx_frames: 1, tx_vlan_tagged: 1 });
  });

  it('leaves an untagged frame as it is', () => {
    const tap = new FakeTap();
    const up = new UplinkPort('up', tap);
    const f = frame([0x08, 0x06]);
    expect(up.deliver(f, 0, f.length, new PortFrameMeta())).toBe(true);
    expect(tap.written).toEqual([[...f]]);
    expect(up.counters).toMatchObject({ tx_frames: 1, tx_vlan_tagged: 0 });
  });
});

describe('UplinkPort receive (kernel → switch)', () => {
  it('takes the tag into the meta and forwards the frame 4 bytes shorter, MACs intact', () => {
    const { tap, up, got } = receiving();
    const f = frame([0x81, 0x00, 0x60, 0x14, 0x08, 0x00, 0x45]); // priority 3, DEI 0, VLAN 20
    tap.queue.push(f);
    expect(up.poll()).toBe(1);
    expect(got).toEqual([{ bytes: [...DST, ...SRC, 0x08, 0x00, 0x45, ...f.subarray(19)], hasVlan: true, vlanTci: packVlan(3, 0, 20) }]);
    expect(up.counters).toMatchObject({ rx_frames: 1, rx_vlan_tagged: 1, rx_bad_vlan: 0 });
  });

  it('keeps the priority of a priority-only tag (VLAN 0)', () => {
    const { tap, up, got } = receiving();
    tap.queue.push(frame([0x81, 0x00, 0xe0, 0x00, 0x86, 0xdd]));
    up.poll();
    expect(got[0]).toMatchObject({ hasVlan: true, vlanTci: packVlan(7, 0, 0) });
    expect(got[0]!.bytes.slice(12, 14)).toEqual([0x86, 0xdd]);
    expect(got[0]!.bytes.length).toBe(56);
  });

  it('drops and counts a tagged frame shorter than 18 bytes; the next frame is clean', () => {
    const { tap, up, got } = receiving();
    tap.queue.push(frame([0x81, 0x00, 0x00, 0x0a, 0x08], 17), frame([0x08, 0x00]));
    expect(up.poll()).toBe(2);
    expect(got.length).toBe(1);
    expect(got[0]).toMatchObject({ hasVlan: false, vlanTci: 0 });
    expect(got[0]!.bytes).toEqual([...frame([0x08, 0x00])]);
    expect(up.counters).toMatchObject({ rx_frames: 1, rx_bad_vlan: 1, rx_vlan_tagged: 0 });
  });

  it('forwards an untagged frame unchanged with no VLAN in the meta', () => {
    const { tap, up, got } = receiving();
    const f = frame([0x08, 0x06, 0x00, 0x01]);
    tap.queue.push(f);
    up.poll();
    expect(got).toEqual([{ bytes: [...f], hasVlan: false, vlanTci: 0 }]);
  });
});

describe('UplinkPort as a trunk port on the switch', () => {
  /** An access-style port that records the frames (and their meta) the switch delivers. */
  class Station implements SwitchPort {
    readonly packetFilter = NDIS_PACKET_TYPE_DIRECTED;
    readonly got: { bytes: number[]; hasVlan: boolean }[] = [];
    constructor(
      readonly name: string,
      readonly macNumber: number,
    ) {}
    deliver(b: Uint8Array, off: number, len: number, m: PortFrameMeta): boolean {
      this.got.push({ bytes: [...b.subarray(off, off + len)], hasVlan: m.hasVlan });
      return true;
    }
  }

  it('a tagged frame from the kernel on VLAN 10 reaches the access port on 10 untagged; its reply leaves tagged', () => {
    const sw = new VSwitch();
    const tap = new FakeTap();
    const up = new UplinkPort('up', tap);
    up.handle = sw.addPort(up, { vlan: { trunk: [10] } });
    const vm10 = new Station('vm10', 0x020000000002);
    const vm20 = new Station('vm20', 0x020000000002);
    const h10 = sw.addPort(vm10, { vlan: 10 });
    sw.addPort(vm20, { vlan: 20 });
    tap.queue.push(frame([0x81, 0x00, 0x00, 0x0a, 0x08, 0x00, 0x45]));
    up.poll();
    expect(vm10.got.length).toBe(1);
    expect(vm10.got[0]!.hasVlan).toBe(false);
    expect(vm10.got[0]!.bytes.slice(0, 15)).toEqual([...DST, ...SRC, 0x08, 0x00, 0x45]);
    expect(vm20.got.length).toBe(0);
    // vm10 answers to the uplink's station (learned behind the uplink): the kernel gets VLAN 10.
    const reply = new Uint8Array(60);
    reply.set([...SRC, ...DST, 0x08, 0x00]);
    const m = new PortFrameMeta();
    h10.forward(reply, 0, reply.length, m);
    expect(tap.written.length).toBe(1);
    expect(tap.written[0]!.slice(12, 18)).toEqual([0x81, 0x00, 0x00, 0x0a, 0x08, 0x00]);
    expect(tap.written[0]!.length).toBe(64);
  });
});
