import { describe, expect, test } from 'vitest';
import { ManualClock, ResourceError } from '../../core/index.js';
import { newGuestCounters } from './counters.js';
import { newTxMeta, TX_F_CSUM, TX_F_LSO, TX_F_VLAN, type RxMeta } from './meta.js';
import { VF_TX_BUSY, VF_TX_TAKEN, VF_TX_UNUSED, VfFailover } from './vf-failover.js';
import type { VfNetdev, VfRxHandler } from './vf-netdev.js';
import { packVlan } from '../../wire/index.js';

const MAC = Uint8Array.of(0, 0x15, 0x5d, 1, 2, 3);

class FakeVf implements VfNetdev {
  running = true;
  carrier = true;
  queueCount = 2;
  maxFrameLen = 1514;
  rxHandler: VfRxHandler | null = null;
  rxPaused = false;
  pending: Uint8Array[] = [];
  released = false;
  constructor(readonly serial: number, readonly permanentMac: Uint8Array = MAC, readonly name = `enP${serial}s1`) {}
  /** [csum PPI, lso PPI, VLAN PPI or -1] of each frame taken. */
  readonly sent: [number, number, number][] = [];
  transmit(_f: Uint8Array, _o: number, _l: number, _q: number, csum: number, lso: number, vlan: number): boolean {
    this.sent.push([csum, lso, vlan]);
    return true;
  }
  pollRx(): number {
    const n = this.pending.length;
    for (const f of this.pending.splice(0)) this.rxHandler?.(f, 0, f.length, 1, -1);
    return n;
  }
  release(): void {
    this.released = true;
  }
}

function rig(fail = false) {
  const counters = newGuestCounters();
  const calls: { toVf: boolean; pathWasVf: boolean }[] = [];
  const delivered: number[] = [];
  /** Synthetic drains, with what the VF had released to the consumer by then (order check). */
  const drains: number[] = [];
  const f: VfFailover = new VfFailover({
    clock: new ManualClock(),
    counters,
    isAttached: () => true,
    permanentMac: () => MAC,
    sendSwitch: (toVf) => {
      calls.push({ toVf, pathWasVf: f.dataPathIsVf });
      return fail ? Promise.reject(new ResourceError('TIMEOUT', 'no completion')) : Promise.resolve();
    },
    deliver: (_u8: Uint8Array, _off: number, len: number, _m: RxMeta) => void delivered.push(len),
    drainSynthetic: () => void drains.push(delivered.length),
  });
  return { f, counters, calls, delivered, drains };
}
const frame = new Uint8Array(100);
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('VfFailover', () => {
  test('matches by serial and MAC, switches with 129(1) after the completion, TX then goes to the VF', async () => {
    const { f, counters, calls, drains } = rig();
    const vf = new FakeVf(7);
    f.onAssociation({ allocated: true, serial: 7 });
    f.vfEvent(vf, 'register');
    expect(f.path.kind).toBe('switchingToVf');
    expect(vf.rxPaused).toBe(true); // the VF holds its frames until the completion
    // Not on the VF before the completion (§3.10), and not synthetic either: held, so the host cannot
    // see a synthetic frame after it took the switch (overtaken by the first VF frames).
    expect(f.transmit(frame, 0, 100, null)).toBe(VF_TX_BUSY);
    expect(f.counters.get('vf_tx_held_switching')).toBe(1);
    await settle();
    expect(f.dataPathIsVf).toBe(true);
    // On the completion every synthetic channel is drained first, before the VF lets frames go.
    expect(drains).toEqual([0]);
    expect(vf.rxPaused).toBe(false);
    expect(f.transmit(frame, 0, 100, null)).toBe(VF_TX_TAKEN);
    expect(counters.get('vf_tx_packets')).toBe(1);
    // The VF takes checksum, LSO and VLAN-insertion requests (its hardware does them): each goes in its TX descriptor.
    expect(f.transmit(frame, 0, 100, { ...newTxMeta(), flags: TX_F_VLAN, vlan: packVlan(5, 0, 10) })).toBe(VF_TX_TAKEN);
    expect(f.counters.get('vf_tx_vlan_inserted')).toBe(1);
    expect(f.transmit(frame, 0, 100, { ...newTxMeta(), flags: TX_F_CSUM, csum: 0x220005 })).toBe(VF_TX_TAKEN);
    expect(f.transmit(new Uint8Array(20_000), 0, 20_000, { ...newTxMeta(), flags: TX_F_LSO | TX_F_VLAN, lso: 0x43601448, vlan: packVlan(0, 0, 20) })).toBe(VF_TX_TAKEN); // a super-frame over maxFrameLen
    expect(vf.sent).toEqual([[0, 0, -1], [0, 0, packVlan(5, 0, 10)], [0x220005, 0, -1], [0, 0x43601448, packVlan(0, 0, 20)]]);
    expect(counters.get('vf_tx_packets')).toBe(4);
    expect(f.counters.get('vf_tx_vlan_inserted')).toBe(2);
    expect(calls).toEqual([{ toVf: true, pathWasVf: false }]);
  });

  test('going down clears data_path_is_vf BEFORE 129(0) is sent; TX falls back at once; RX is drained on a planned removal', async () => {
    const { f, calls, delivered, counters } = rig();
    const vf = new FakeVf(7);
    f.onAssociation({ allocated: true, serial: 7 });
    f.vfEvent(vf, 'register');
    await settle();
    vf.pending.push(new Uint8Array(60), new Uint8Array(61));
    vf.running = false;
    f.vfEvent(vf, 'goingDown');
    expect(calls.at(-1)).toEqual({ toVf: false, pathWasVf: false });
    expect(f.transmit(frame, 0, 100, null)).toBe(VF_TX_UNUSED);
    expect(delivered).toEqual([60, 61]);
    expect(counters.get('vf_rx_packets')).toBe(2);
    expect(vf.released).toBe(true);
    await settle();
    expect(f.path.kind).toBe('synthetic');
    expect(f.events.map((e) => e.what)).toEqual(['vfAdded', 'dataPathSwitched', 'vfRemoved', 'dataPathSwitched']);
  });

  test('a VF with our MAC but another serial is ignored and counted; the path stays synthetic', async () => {
    const { f, calls } = rig();
    f.onAssociation({ allocated: true, serial: 7 });
    f.vfEvent(new FakeVf(8), 'register');
    f.vfEvent(new FakeVf(7, Uint8Array.of(2, 0, 0, 0, 0, 1)), 'register');
    await settle();
    expect(f.counters.get('vf_ignored')).toBe(2);
    expect(f.vf).toBeNull();
    expect(calls).toEqual([]);
  });

  test('bad input: a removal association for a serial we were not given is counted and ignored', () => {
    const { f } = rig();
    f.onAssociation({ allocated: true, serial: 7 });
    f.onAssociation({ allocated: false, serial: 99 });
    expect(f.counters.get('vf_assoc_unknown')).toBe(1);
    expect(f.assoc).toEqual({ allocated: true, serial: 7 });
    expect(f.lastError).toMatchObject({ code: 'UNEXPECTED_MESSAGE' });
  });

  test('a switch that gets no completion is counted, leaves traffic synthetic and is not retried in a loop', async () => {
    const { f, calls } = rig(true);
    f.onAssociation({ allocated: true, serial: 7 });
    f.vfEvent(new FakeVf(7), 'register');
    await settle();
    await settle();
    expect(f.path.kind).toBe('synthetic');
    expect(f.counters.get('vf_switch_failed')).toBe(1);
    expect(calls.length).toBe(1);
    expect(f.transmit(frame, 0, 100, null)).toBe(VF_TX_UNUSED);
  });
});
