// VmRuntime's TAP attach, detach and re-probe against a scripted driver (no root, no host): the
// addon is replaced by a fake (its fd watch only), the NIC is put in place of a probed one, and the
// re-probe's new device comes from a mocked probeGuestNic. What is counted is what a real run would
// leak or corrupt: GPADLs mapped and torn down, bridges installed, arena records and slots freed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { XMIT_IN_PLACE } from '../guest/index.js';
import { createFrameRingBuffer, type TapShared } from '../io/index.js';
import { newVmShared } from '../vmbus/index.js';
import type { NicConfig } from './config.js';
import type { GuestNicDriver, StackTxRequest } from './nic-driver.js';
import type { TxArena } from './tap/tx-arena.js';
import type { TrafficGenerator } from './traffic/generator.js';
import { GEN_SLOT_BYTES, GEN_TOKEN_BASE, GenTxSlots } from './traffic/tx-slots.js';
import { TxDoneRouter } from './tx-done-router.js';
import { VmNic } from './vm-nic.js';
import { VmRuntime } from './vm-runtime.js';

/** The addon's fd watch, counted (a watch left on after detach would read a closed fd). */
const watches = new Set<object>();
const fakeAddon = {
  watch: () => {
    const h = {};
    watches.add(h);
    return h;
  },
  unwatch: (h: object) => void watches.delete(h),
  readFrames: () => 0,
};
vi.mock('../io/tap/addon.js', async (orig) => ({ ...(await orig<object>()), tapAvailability: () => ({ ok: true, addon: fakeAddon }) }));

/** The device a re-probe finds (set by the test). */
let nextDriver: ScriptedDriver | null = null;
vi.mock('./guest-nic.js', () => ({ probeGuestNic: async () => nextDriver }));

/** A driver whose mapTxPages answers after a few ms (so two attaches can overlap) and which records its GPADLs. */
class ScriptedDriver {
  onFrame: GuestNicDriver['onFrame'] = () => {};
  onTxDone: (token: number) => void = () => {};
  readonly mapped = new Set<number>();
  maps = 0;
  closed = false;
  private nextHandle = 100;
  offloads() {
    return { txCsumMask: 0x33, tso4: true, tso6: true, gsoMax: 65536 };
  }
  info() {
    return { mtu: 1500, mac: '02:00:00:00:00:01' } as ReturnType<GuestNicDriver['info']>;
  }
  stats(): Record<string, number> {
    return {};
  }
  vfState() {
    return { dataPath: 'synthetic' as const, serial: null, events: [] };
  }
  /** Frames copied (not in place): taken at once. */
  xmit(): boolean {
    return true;
  }
  setRxFragments(_on: boolean): void {}
  mapTxPages(_pfns: readonly number[]): Promise<number> {
    this.maps++;
    const h = this.nextHandle++;
    return new Promise((r) => setTimeout(() => (this.mapped.add(h), r(h)), 5));
  }
  async unmapTxPages(h: number): Promise<void> {
    if (!this.mapped.delete(h)) throw new Error(`GPADL ${h} not mapped`);
  }
  xmitInPlace(_off: number, _len: number, _req: StackTxRequest, _more: boolean, _token: number): number {
    return XMIT_IN_PLACE;
  }
  flushTx(): void {}
  async close(): Promise<void> {
    this.closed = true;
  }
}

const SHARED: TapShared = { name: 't0', rx: createFrameRingBuffer(1 << 16), tx: createFrameRingBuffer(1 << 16), vnetHdrLen: 12, txFd: 7, rxFd: 7 };

let rt: VmRuntime;
let drv: ScriptedDriver;
let router: TxDoneRouter;
let inner: {
  nics: Map<string, VmNic>;
  txDone: Map<string, TxDoneRouter>;
  tapArenas: Map<string, TxArena>;
  taps: Map<string, unknown>;
  genSlots: Map<string, Promise<GenTxSlots | null>>;
  apps: Map<number, { app: TrafficGenerator }>;
};

beforeEach(() => {
  watches.clear();
  rt = new VmRuntime({ name: 'vm0', shared: newVmShared(2048), nics: [], appPorts: [], replyTimeoutMs: 1000 }, { send() {}, onMessage: () => {}, close() {} });
  // What bringUp() does for a probed NIC.
  inner = rt as unknown as typeof inner;
  drv = new ScriptedDriver();
  router = new TxDoneRouter();
  drv.onTxDone = router.route;
  inner.txDone.set('eth0', router);
  inner.nics.set('eth0', new VmNic('eth0', drv as unknown as GuestNicDriver));
});
afterEach(async () => rt.close());

describe('VmRuntime TAP attach/detach', () => {
  it('a second attach while the first awaits its arena is refused (BUSY) and maps nothing; the one arena is unmapped at close', async () => {
    const first = rt.attachTap('eth0', SHARED, { offloads: true });
    await expect(rt.attachTap('eth0', SHARED, { offloads: true })).rejects.toMatchObject({ name: 'ConfigError', code: 'BUSY' });
    await first;
    expect([drv.maps, drv.mapped.size, watches.size]).toEqual([1, 1, 1]);
    await expect(rt.attachTap('eth0', SHARED, { offloads: true })).rejects.toMatchObject({ code: 'BUSY' }); // attached
    rt.detachTap('eth0');
    expect(watches.size).toBe(0);
    await rt.attachTap('eth0', SHARED, { offloads: true }); // a later TAP reuses the arena
    rt.detachTap('eth0');
    expect([drv.maps, drv.mapped.size]).toEqual([1, 1]);
    await rt.close();
    expect([drv.closed, drv.mapped.size]).toEqual([true, 0]);
  });

  it('a detach while the attach awaits its arena wins: the attach fails (CHANNEL_CLOSED) and installs nothing', async () => {
    const attach = rt.attachTap('eth0', SHARED, { offloads: true });
    rt.detachTap('eth0');
    await expect(attach).rejects.toMatchObject({ name: 'ResourceError', code: 'CHANNEL_CLOSED', message: 'nic eth0: the TAP was detached while it was being attached' });
    expect(inner.taps.size).toBe(0);
    expect(watches.size).toBe(0);
    expect(() => rt.tapStats('eth0')).toThrow(/no TAP attached/);
    // Not stuck: the next attach goes through, on the arena already mapped.
    await rt.attachTap('eth0', SHARED, { offloads: true });
    expect([inner.taps.size, watches.size, drv.maps]).toEqual([1, 1, 1]);
  });

  it('close while an attach awaits: the attach installs nothing and the arena it mapped is unmapped', async () => {
    const attach = rt.attachTap('eth0', SHARED, { offloads: true });
    const closing = rt.close();
    // The caller is told what happened: the VM closed (nobody detached anything).
    await expect(attach).rejects.toMatchObject({ code: 'CHANNEL_CLOSED', message: 'nic eth0: VM vm0 closed while the TAP was being attached' });
    await closing;
    expect([inner.taps.size, watches.size, drv.maps, drv.mapped.size]).toEqual([0, 0, 1, 0]);
  });
});

describe('VmRuntime in-place GPADLs at close', () => {
  const GEN = { flow: 1, protocol: 'tcp', lso: true, sizes: [30000], count: 10, dstMac: '02:00:00:00:00:02' } as const;

  it('the generator slots\' GPADL is torn down at close, like the TAP arena\'s', async () => {
    rt.startGenerator('eth0', GEN);
    expect(await inner.genSlots.get('eth0')).not.toBeNull();
    await rt.attachTap('eth0', SHARED, { offloads: true });
    expect([drv.maps, drv.mapped.size]).toEqual([2, 2]);
    await rt.close();
    expect(drv.mapped.size).toBe(0);
  });

  it('slots whose mapping finishes after close began are torn down too, and no generator gets them', async () => {
    rt.startGenerator('eth0', GEN);
    const closing = rt.close();
    expect(await inner.genSlots.get('eth0')).toBeNull();
    await closing;
    expect([drv.maps, drv.mapped.size]).toEqual([1, 0]);
  });
});

describe('VmRuntime re-probe', () => {
  it('the dead driver is cut off: a late completion frees no arena record or slot (counted tx_done_stale), one it never returned is freed', async () => {
    await rt.attachTap('eth0', SHARED, { offloads: true });
    const arena = inner.tapArenas.get('eth0')!;
    const slots = new GenTxSlots(new Uint8Array(4 * GEN_SLOT_BYTES), 0, 4 * GEN_SLOT_BYTES);
    router.slots = slots;
    // The old device takes a frame in place and is rescinded; its teardown does not return the frame.
    expect(arena.window()).toBe(true);
    const lost = arena.add(arena.winStart, arena.winStart + 12, 1500, false, 0);
    arena.readTo(arena.winStart + 1520);
    arena.taken(true);
    const old = drv;
    nextDriver = new ScriptedDriver();
    await (rt as unknown as { reprobe(c: NicConfig, n: VmNic): Promise<void> }).reprobe({ name: 'eth0' } as NicConfig, inner.nics.get('eth0')!);
    expect(old.closed).toBe(true);
    expect(inner.nics.get('eth0')!.driver).toBe(nextDriver);
    expect(arena.inFlight).toBe(0); // the record the dead device kept is free again, not stuck forever
    // The new device takes a frame in place and a generator slot.
    expect(arena.window()).toBe(true);
    const live = arena.add(arena.winStart, arena.winStart + 12, 1500, false, 0);
    arena.taken(true);
    slots.busy[2] = 1;
    // The dead device completes late: its own token, the new frame's, the slot the new device holds.
    old.onTxDone(lost);
    old.onTxDone(live);
    old.onTxDone(GEN_TOKEN_BASE + 2);
    expect([arena.inFlight, slots.inFlight]).toEqual([1, 1]);
    expect(rt.tapStats('eth0')).toMatchObject({ tx_done_stale: 3, tx_done_missing: 1, tx_in_flight: 1 });
    // Only the new device completes them.
    nextDriver.onTxDone(live);
    nextDriver.onTxDone(GEN_TOKEN_BASE + 2);
    expect([arena.inFlight, slots.inFlight]).toEqual([0, 0]);
  });

  it('generator slots the dead device never returned are freed at the re-probe (counted): all 32 are sent from again', async () => {
    // Two LSO sizes: the generator claims 24 + 8 slots, all 32 of the NIC's.
    const id = rt.startGenerator('eth0', { flow: 1, protocol: 'tcp', lso: true, sizes: [30000, 20000], count: 1_000_000, dstMac: '02:00:00:00:00:02', batch: 64 });
    const slots = (await inner.genSlots.get('eth0'))!;
    await Promise.resolve(); // useInPlace runs in the mapping's then()
    const gen = inner.apps.get(id)!.app;
    gen.poll();
    // The scripted device never completes: every slot is in flight on it when it is rescinded.
    expect([slots.count, slots.inFlight, gen.report().inPlace]).toEqual([32, 32, 32]);
    const old = drv;
    nextDriver = new ScriptedDriver();
    await (rt as unknown as { reprobe(c: NicConfig, n: VmNic): Promise<void> }).reprobe({ name: 'eth0' } as NicConfig, inner.nics.get('eth0')!);
    expect(slots.inFlight).toBe(0);
    expect(rt.stats('eth0').lab).toMatchObject({ tx_done_missing_gen: 32, tx_done_missing: 0, tx_done_stale: 0 });
    old.onTxDone(GEN_TOKEN_BASE + 5); // late, from the dead device: ignored
    expect(rt.stats('eth0').lab.tx_done_stale).toBe(1);
    // The new device gets all 32 slots in place again (none lost to the dead one).
    gen.poll();
    expect([slots.inFlight, gen.report().inPlace]).toEqual([32, 64]);
    for (let s = 0; s < 32; s++) nextDriver.onTxDone(GEN_TOKEN_BASE + s);
    expect([slots.inFlight, slots.badTokens]).toEqual([0, 0]);
    // The live device completing a slot twice, one past the last, or a fraction of one: ignored, counted in stats.
    gen.poll();
    for (const t of [GEN_TOKEN_BASE + 3, GEN_TOKEN_BASE + 3, GEN_TOKEN_BASE + 32, GEN_TOKEN_BASE + 4.5]) nextDriver.onTxDone(t);
    expect(slots.inFlight).toBe(31);
    expect(rt.stats('eth0').lab.tx_done_ignored_gen).toBe(3);
  });
});
