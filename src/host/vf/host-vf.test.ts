import { describe, expect, test } from 'vitest';
import { ManualClock } from '../../core/index.js';
import * as W from '../../wire/index.js';
import { HypervHost, type HostNic } from '../index.js';
import { PortFrameMeta, type PortConfig, type SwitchPort } from '../vswitch/port.js';
import type { VfFrameHandler, VfHardware, VfLoss } from './vf-hardware.js';
import { ScriptedGuest, TestLab } from '../../../test/harness/scripted-guest.js';

const MAC_A = '00:15:5d:00:00:0a';
const A = [0x00, 0x15, 0x5d, 0, 0, 0x0a];
const EXT = [0x02, 0, 0, 0, 0, 0x99];

/** A VF with plain arrays for queues: what the host put on it and what the "guest" queued. */
class FakeVf implements VfHardware {
  plugged = false;
  linkUp = true;
  ejectAcked = false;
  ejectRequested = 0;
  rx: Uint8Array[] = [];
  tx: Uint8Array[] = [];
  /** The 802.1Q PPI value the VF inserts into each tx frame (-1 = untagged), in step with tx. */
  txVlan: number[] = [];
  constructor(readonly serial: number, readonly mac: Uint8Array, readonly rxCap = 1000) {}
  plug(): void {
    this.plugged = true;
  }
  setLink(up: boolean): void {
    this.linkUp = up;
  }
  pollTx(fn: VfFrameHandler, budget: number): number {
    let n = 0;
    for (; n < budget && this.tx.length > 0; n++) {
      const f = this.tx.shift()!;
      fn(f, 0, f.length, this.txVlan.shift() ?? -1);
    }
    return n;
  }
  deliverRx(b: Uint8Array, off: number, len: number): boolean {
    if (this.rx.length >= this.rxCap) return false;
    this.rx.push(b.slice(off, off + len));
    return true;
  }
  requestEject(): void {
    this.ejectRequested++;
  }
  unplug(): VfLoss {
    const loss = { lostTx: this.tx.length, lostRx: this.rx.length };
    this.tx = [];
    this.rx = [];
    this.plugged = false;
    return loss;
  }
}

/** A promiscuous port standing for the rest of the network. */
class Ext implements SwitchPort {
  readonly name = 'ext';
  readonly macNumber = 0x020000000099;
  readonly packetFilter = W.NDIS_PACKET_TYPE_PROMISCUOUS;
  got: Uint8Array[] = [];
  /** The 802.1Q PPI value each frame arrived with (-1 = untagged). */
  tags: number[] = [];
  deliver(b: Uint8Array, off: number, len: number, meta: PortFrameMeta): boolean {
    this.got.push(b.slice(off, off + len));
    this.tags.push(meta.hasVlan ? meta.vlanTci : -1);
    return true;
  }
}

function frame(dst: number[], src: number[], seq: number): Uint8Array {
  const f = new Uint8Array(64);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  new DataView(f.buffer).setUint32(14, seq);
  return f;
}

interface Rig {
  lab: TestLab;
  clock: ManualClock;
  g: ScriptedGuest;
  nic: HostNic;
  ext: Ext;
  inject(dst: number[], seq: number): void;
  /** Frames the guest received on the synthetic path (RNDIS data of each range). */
  syntheticRx(): number;
  associations(): { allocated: number; serial: number }[];
  switchPath(toVf: boolean): Promise<Uint8Array>;
}

async function rig(o: { version?: number; sriov?: number; port?: PortConfig; extPort?: PortConfig } = {}): Promise<Rig> {
  const clock = new ManualClock();
  const lab = new TestLab(new HypervHost({ profile: 'azure', clock, ageingMs: 0 }));
  const g = await ScriptedGuest.create(lab, 'vmA', { mac: MAC_A, ...(o.port ? { port: o.port } : {}) });
  const v = o.version ?? W.NVSP_PROTOCOL_VERSION_61;
  await g.request({ type: W.NVSP_MSG_TYPE_INIT, minProtocolVer: v, maxProtocolVer: v });
  g.send({ type: W.NVSP_MSG2_TYPE_SEND_NDIS_CONFIG, mtu: 1514, reserved: 0, capability: { ieee8021q: 1, sriov: o.sriov ?? 1 } }, false);
  g.send({ type: W.NVSP_MSG1_TYPE_SEND_NDIS_VER, ndisMajorVer: 6, ndisMinorVer: v > W.NVSP_PROTOCOL_VERSION_4 ? 30 : 1 }, false);
  g.recvPfns = g.vm.allocator.allocPages(64, false);
  const h = await g.vm.guest.establishGpadl(g.recvPfns);
  await g.request({ type: W.NVSP_MSG1_TYPE_SEND_RECV_BUF, gpadlHandle: h, id: W.NETVSC_RECEIVE_BUFFER_ID });
  await g.rndis({ ndisMsgType: W.RNDIS_MSG_INIT, msgLen: 24, reqId: 1, majorVer: 1, minorVer: 0, maxXferSize: 0x4000 });
  const info = new Uint8Array(4);
  new DataView(info.buffer).setUint32(0, W.NDIS_PACKET_TYPE_DIRECTED | W.NDIS_PACKET_TYPE_BROADCAST, true);
  await g.rndis({ ndisMsgType: W.RNDIS_MSG_SET, msgLen: 32, reqId: 2, oid: W.RNDIS_OID_GEN_CURRENT_PACKET_FILTER, infoBuflen: 4, infoBufOffset: 20, devVcHandle: 0, infoBuf: info });
  const ext = new Ext();
  const extHandle = lab.hv.vswitch.addPort(ext, o.extPort);
  const meta = new PortFrameMeta();
  g.rx.length = 0;
  g.inband.length = 0;
  return {
    lab, clock, g, nic: g.nic, ext,
    inject: (dst, seq) => {
      const f = frame(dst, EXT, seq);
      extHandle.forward(f, 0, f.length, meta);
    },
    syntheticRx: () => g.rx.reduce((n, r) => n + r.ranges.length, 0),
    associations: () =>
      g.inband.map((b) => ScriptedGuest.parse(b)).filter((m) => m.type === W.NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION).map((m) => (m.type === W.NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION ? { allocated: m.allocated, serial: m.serial } : { allocated: -1, serial: -1 })),
    switchPath: (toVf) => g.request({ type: W.NVSP_MSG4_TYPE_SWITCH_DATA_PATH, activeDatapath: toVf ? 1 : 0 }),
  };
}

async function shown(r: Rig, serial = 42, delay = 50): Promise<FakeVf> {
  const vf = new FakeVf(serial, Uint8Array.from(A));
  r.nic.vf.add(vf, { showDelayMs: delay });
  await r.lab.settle();
  r.clock.advance(delay);
  await r.lab.settle();
  return vf;
}

describe('host VF: association only to a guest that negotiated SR-IOV, after the show delay', () => {
  test('association {1, serial} goes out exactly showDelayMs after the VF is added, then the device is plugged', async () => {
    const r = await rig();
    const vf = new FakeVf(42, Uint8Array.from(A));
    r.nic.vf.add(vf, { showDelayMs: 1000 });
    await r.lab.settle();
    expect(r.nic.vf.state.kind).toBe('available');
    r.clock.advance(999);
    await r.lab.settle();
    expect(r.associations()).toEqual([]);
    expect(vf.plugged).toBe(false);
    r.clock.advance(1);
    await r.lab.settle();
    expect(r.associations()).toEqual([{ allocated: 1, serial: 42 }]);
    expect(vf.plugged).toBe(true);
    expect(r.nic.vf.state).toEqual({ kind: 'ready', serial: 42 });
    expect(r.nic.stats().vf.counters.vf_associations_sent).toBe(1);
  });

  test('the default show delay is 1000 ms, as on Hyper-V', async () => {
    const r = await rig();
    r.nic.vf.add(new FakeVf(1, Uint8Array.from(A)));
    r.clock.advance(999);
    await r.lab.settle();
    expect(r.nic.vf.state.kind).toBe('available');
    r.clock.advance(1);
    expect(r.nic.vf.state.kind).toBe('ready');
  });

  test.each([
    ['NVSP 6.1 without the sriov bit', W.NVSP_PROTOCOL_VERSION_61, 0],
    ['NVSP 2 with the sriov bit', W.NVSP_PROTOCOL_VERSION_2, 1],
  ])('%s: no association ever, the VF stays initializing', async (_n, version, sriov) => {
    const r = await rig({ version, sriov });
    const vf = new FakeVf(5, Uint8Array.from(A));
    r.nic.vf.add(vf, { showDelayMs: 10 });
    r.clock.advance(5000);
    await r.lab.settle();
    expect(r.nic.vf.state.kind).toBe('initializing');
    expect(r.associations()).toEqual([]);
    expect(vf.plugged).toBe(false);
  });

  test('NVSP 4 with the sriov bit is enough (openvmm: NVSP ≥ 4)', async () => {
    const r = await rig({ version: W.NVSP_PROTOCOL_VERSION_4 });
    await shown(r, 9);
    expect(r.associations()).toEqual([{ allocated: 1, serial: 9 }]);
  });

  test('a second VF on the same NIC is refused with BAD_CONFIG', async () => {
    const r = await rig();
    await shown(r);
    expect(() => r.nic.vf.add(new FakeVf(43, Uint8Array.from(A)))).toThrow(/already has a VF/);
  });
});

describe('host VF: SWITCH_DATA_PATH steers the MAC between the synthetic port and the VF port', () => {
  test('129(1) gets an empty completion; unicast and broadcast for the MAC then reach only the VF; 129(0) moves them back', async () => {
    const r = await rig();
    const vf = await shown(r);
    r.inject(A, 1);
    await r.lab.settle();
    expect([r.syntheticRx(), vf.rx.length]).toEqual([1, 0]);
    expect((await r.switchPath(true)).length).toBe(0);
    expect(r.nic.vf.state.kind).toBe('switched');
    r.inject(A, 2);
    r.inject([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 3);
    await r.lab.settle();
    expect([r.syntheticRx(), vf.rx.length]).toEqual([1, 2]);
    expect((await r.switchPath(false)).length).toBe(0);
    expect(r.nic.vf.state.kind).toBe('synthetic');
    r.inject(A, 4);
    await r.lab.settle();
    expect([r.syntheticRx(), vf.rx.length]).toEqual([2, 2]);
    const c = r.nic.stats().vf.counters;
    expect([c.vf_switch_to_vf, c.vf_switch_to_synthetic, c.vf_frames_to_guest]).toEqual([1, 1, 2]);
  });

  test('frames the guest queues on the VF go into the switch with its MAC learned nowhere new', async () => {
    const r = await rig();
    const vf = await shown(r);
    await r.switchPath(true);
    vf.tx.push(frame(EXT, A, 1), frame(EXT, A, 2));
    await r.lab.settle();
    expect(r.ext.got.map((f) => new DataView(f.buffer).getUint32(14))).toEqual([1, 2]);
    expect(r.nic.stats().vf.counters.vf_frames_from_guest).toBe(2);
  });

  test('a tag the VF inserted enters the switch like the VLAN PPI: carried to a trunk, checked against the port\'s VLANs', async () => {
    const r = await rig({ port: { vlan: { trunk: [10] } }, extPort: { vlan: { trunk: [10, 20] } } });
    const vf = await shown(r);
    await r.switchPath(true);
    vf.tx.push(frame(EXT, A, 1), frame(EXT, A, 2), frame(EXT, A, 3));
    vf.txVlan.push(W.packVlan(5, 0, 10), W.packVlan(0, 0, 20), -1);
    await r.lab.settle();
    // VLAN 10 reaches the trunk tagged (priority kept); VLAN 20 is not the NIC's to send on: dropped
    // and counted at the VF's port (it has the synthetic port's VLANs); untagged is VLAN 0, untagged.
    expect(r.ext.got.map((f) => new DataView(f.buffer).getUint32(14))).toEqual([1, 3]);
    expect(r.ext.tags).toEqual([W.packVlan(5, 0, 10), -1]);
    expect(r.nic.stats().vf.counters.vf_frames_from_guest).toBe(3);
    const vfPort = Object.entries(r.lab.hv.vswitch.portStats()).find(([name]) => name.endsWith('/vf'));
    expect(vfPort?.[1]['vlan_dropped']).toBe(1);
  });

  test('bad input: 129(1) with no VF, and before the VF is shown, is completed (the guest never hangs), counted, and changes nothing', async () => {
    const r = await rig();
    expect((await r.switchPath(true)).length).toBe(0);
    const vf = new FakeVf(42, Uint8Array.from(A));
    r.nic.vf.add(vf, { showDelayMs: 100 });
    expect((await r.switchPath(true)).length).toBe(0);
    expect(r.nic.stats().vf.counters.vf_unexpected).toBe(2);
    expect(r.nic.vf.lastError).toMatchObject({ code: 'UNEXPECTED_MESSAGE' });
    r.inject(A, 1);
    await r.lab.settle();
    expect([r.syntheticRx(), vf.rx.length]).toEqual([1, 0]);
  });

  test('bad input: 129 with a datapath other than 0/1 is completed, counted nvsp_bad_message, and switches nothing', async () => {
    const r = await rig();
    const vf = await shown(r);
    expect(r.nic.vf.state.kind).toBe('ready');
    expect((await r.g.request({ type: W.NVSP_MSG4_TYPE_SWITCH_DATA_PATH, activeDatapath: 2 })).length).toBe(0);
    expect(r.nic.vf.state.kind).toBe('ready');
    expect(r.nic.stats().counters.nvsp_bad_message).toBe(1);
    expect(r.nic.stats().vf.counters).toMatchObject({ vf_switch_to_vf: 0, vf_unexpected: 0 });
    r.inject(A, 1);
    await r.lab.settle();
    expect([r.syntheticRx(), vf.rx.length]).toEqual([1, 0]);
  });

  test('129(0) with no VF is a legal no-op (the guest races a removal)', async () => {
    const r = await rig();
    expect((await r.switchPath(false)).length).toBe(0);
    expect(r.nic.stats().vf.counters).toMatchObject({ vf_unexpected: 0, vf_switch_noop: 1 });
  });

  test('VF link down switches the MAC back to synthetic at once (host-initiated); 129(1) while down is refused', async () => {
    const r = await rig();
    const vf = await shown(r);
    await r.switchPath(true);
    r.nic.vf.setLink(false);
    expect(r.nic.vf.state.kind).toBe('synthetic');
    r.inject(A, 1);
    await r.lab.settle();
    expect([r.syntheticRx(), vf.rx.length]).toEqual([1, 0]);
    await r.switchPath(true);
    expect(r.nic.vf.state.kind).toBe('synthetic');
    expect(r.nic.stats().vf.counters.vf_switch_refused).toBe(1);
    r.nic.vf.setLink(true);
    await r.switchPath(true);
    expect(r.nic.vf.state.kind).toBe('switched');
  });
});

describe('host VF: removal', () => {
  test('planned: switch back first, association {0}, eject request; queued VF frames go out on the ack; nothing lost', async () => {
    const r = await rig();
    const vf = await shown(r);
    await r.switchPath(true);
    vf.tx.push(frame(EXT, A, 7));
    vf.rx.push(frame(A, EXT, 8)); // the guest will drain it before acking
    expect(r.nic.vf.remove(true)).toBeNull();
    expect(r.nic.vf.state).toMatchObject({ kind: 'unavailable', from: 'switched', planned: true });
    await r.lab.settle();
    expect(r.associations()).toEqual([{ allocated: 1, serial: 42 }, { allocated: 0, serial: 42 }]);
    expect(vf.ejectRequested).toBe(1);
    r.inject(A, 9);
    await r.lab.settle();
    expect(r.syntheticRx()).toBe(1); // already back on synthetic
    vf.rx.length = 0;
    vf.ejectAcked = true;
    await r.lab.settle();
    expect(r.nic.vf.state.kind).toBe('none');
    expect(vf.plugged).toBe(false);
    expect(r.ext.got.some((f) => new DataView(f.buffer).getUint32(14) === 7)).toBe(true);
    expect(r.nic.stats().vf.counters).toMatchObject({ vf_planned_removals: 1, vf_lost_tx: 0, vf_lost_rx: 0, vf_host_switch_back: 1 });
    expect(r.lab.hv.vswitch.steered().size).toBe(0);
  });

  test('planned without an ack within ejectTimeoutMs becomes a surprise removal, counted', async () => {
    const r = await rig();
    const vf = new FakeVf(42, Uint8Array.from(A));
    r.nic.vf.add(vf, { showDelayMs: 1, ejectTimeoutMs: 300 });
    r.clock.advance(1);
    await r.lab.settle();
    r.nic.vf.remove(true);
    vf.rx.push(frame(A, EXT, 1));
    r.clock.advance(300);
    expect(r.nic.vf.state.kind).toBe('none');
    expect(r.nic.stats().vf.counters).toMatchObject({ vf_eject_timeouts: 1, vf_lost_rx: 1 });
  });

  test('surprise: the device is gone now; frames in its queues are lost and counted; association {0}; re-add works', async () => {
    const r = await rig();
    const vf = await shown(r);
    await r.switchPath(true);
    r.inject(A, 1);
    r.inject(A, 2);
    vf.tx.push(frame(EXT, A, 3));
    expect(r.nic.vf.remove(false)).toEqual({ lostTx: 1, lostRx: 2 });
    expect(r.nic.vf.state.kind).toBe('none');
    r.inject(A, 4);
    await r.lab.settle();
    expect(r.syntheticRx()).toBe(1);
    expect(r.associations().at(-1)).toEqual({ allocated: 0, serial: 42 });
    expect(r.nic.stats().vf.counters).toMatchObject({ vf_surprise_removals: 1, vf_lost_tx: 1, vf_lost_rx: 2 });
    expect((await r.switchPath(false)).length).toBe(0);
    const again = await shown(r, 43);
    expect(again.plugged).toBe(true);
    expect(r.associations().at(-1)).toEqual({ allocated: 1, serial: 43 });
  });

  test('removing a VF that is not there is a BAD_CONFIG error', async () => {
    const r = await rig();
    expect(() => r.nic.vf.remove(true)).toThrow(/no VF/);
  });

  test('a guest reset (primary channel closed) puts the VF back to initializing and the MAC back on synthetic', async () => {
    const r = await rig();
    await shown(r);
    await r.switchPath(true);
    await r.g.vm.guest.close(r.g.ch);
    await r.lab.settle();
    expect(r.nic.vf.state.kind).toBe('initializing');
    expect(r.nic.stats().vf.counters.vf_guest_resets).toBe(1);
    expect([...r.lab.hv.vswitch.steered().values()]).toEqual(['vmA/Network Adapter']);
  });
});
