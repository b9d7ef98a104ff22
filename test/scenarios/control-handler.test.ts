// The lab's control handler against a running two-VM lab: each command changes what it says,
// checked on the running system (the guest's view, the host's view, and traffic).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ControlHandler } from '../../src/cli/control/index.js';
import { ScenarioRun, labControlHandler, validateScenario, type GeneratorReport, type LabNic, type SinkReport, type TrafficApp } from '../../src/lab/index.js';

let run: ScenarioRun;
let h: ControlHandler;
let flowId = 100;

beforeAll(async () => {
  const spec = validateScenario({
    name: 'control',
    host: { profile: 'azure' },
    vms: [
      { name: 'vm1', vcpus: 4, nics: [{ name: 'nic0', queues: 4 }] },
      { name: 'vm2', vcpus: 4, nics: [{ name: 'nic1', queues: 4 }] },
    ],
  });
  run = await ScenarioRun.create(spec, { callTimeoutMs: 20_000 });
  h = labControlHandler(run);
});
afterAll(async () => run?.close());

/** Sends `parallel` TCP flows of `count` frames nic0 → nic1; returns frames delivered and nic1's per-queue rx deltas. */
async function traffic(parallel: number, count: number, protocol: 'tcp' | 'udp' = 'tcp', o: { srcPort?: (i: number) => number; stack?: boolean } = {}): Promise<{ delivered: number; perQueue: number[]; txPerQueue: number[]; coalesced: number }> {
  const from: LabNic = run.nic('nic0');
  const to: LabNic = run.nic('nic1');
  const before = (await to.stats()).guest.ethtool;
  const txBefore = (await from.stats()).guest.ethtool;
  const pairs: { sink: TrafficApp<SinkReport>; gen: TrafficApp<GeneratorReport> }[] = [];
  for (let i = 0; i < parallel; i++) {
    const flow = flowId++;
    const sink = await to.startSink({ flow, count });
    const gen = await from.startGenerator({ flow, protocol, dstMac: to.mac, srcPort: o.srcPort?.(i) ?? 30000 + i * 7, dstPort: 80, sizes: [200], count, stack: o.stack ?? false });
    pairs.push({ sink, gen });
  }
  await run.lab.waitFor('generators', async () => (await Promise.all(pairs.map((p) => p.gen.report()))).every((r) => r.done));
  await new Promise((r) => setTimeout(r, 200));
  const reports = await Promise.all(pairs.map(async (p) => (await p.gen.stop(), p.sink.stop())));
  const after = (await to.stats()).guest.ethtool;
  const txAfter = (await from.stats()).guest.ethtool;
  const perQueue: number[] = [];
  for (let q = 0; `rx_queue_${q}_packets` in after; q++) perQueue.push((after[`rx_queue_${q}_packets`] ?? 0) - (before[`rx_queue_${q}_packets`] ?? 0));
  const txPerQueue: number[] = [];
  for (let q = 0; `tx_queue_${q}_packets` in txAfter; q++) txPerQueue.push((txAfter[`tx_queue_${q}_packets`] ?? 0) - (txBefore[`tx_queue_${q}_packets`] ?? 0));
  return { delivered: reports.reduce((a, r) => a + r.unique, 0), perQueue, txPerQueue, coalesced: reports.reduce((a, r) => a + r.coalesced, 0) };
}

describe('lab control handler', () => {
  test('-i, -S, host and stats describe the running NICs', async () => {
    expect(await h['ethtool.info']({ op: 'ethtool.info', nic: 'nic0' })).toMatchObject({ driver: 'hv_netvsc', firmwareVersion: 'N/A' });
    const host = await h.host({ op: 'host' });
    expect(host).toMatchObject({ profile: 'azure', maxQueues: 64 });
    expect(host.nics.map((n) => [n.name, n.vm, n.nvspVersion, n.queues, n.link])).toEqual([['nic0', 'vm1', 0x60001, 4, 'up'], ['nic1', 'vm2', 0x60001, 4, 'up']]);
    // UDP: one received frame per sent one (TCP segments would be merged by GRO).
    const { delivered } = await traffic(1, 300, 'udp');
    expect(delivered).toBe(300);
    const s = await h['ethtool.stats']({ op: 'ethtool.stats', nic: 'nic1' });
    const rx = s.stats.filter((x) => /^rx_queue_\d+_packets$/.test(x.name)).reduce((a, x) => a + x.value, 0);
    expect(rx).toBeGreaterThanOrEqual(300);
    const st = await h.stats({ op: 'stats' });
    expect(st.nics.find((n) => n.name === 'nic0')!.txPackets).toBeGreaterThanOrEqual(300);
  });

  test('-G rx 512 tx 64: the guest\'s ringparam and the host\'s buffer sections both change', async () => {
    expect(await h.change({ op: 'change', nic: 'nic1', change: { action: 'rings', rx: 512, tx: 64 } })).toEqual({ notes: [] });
    expect(await h['ethtool.rings']({ op: 'ethtool.rings', nic: 'nic1' })).toMatchObject({ rx: 512, tx: 64 });
    const host = (await run.nic('nic1').stats()).host;
    expect(host.recvBuffer?.sections).toBe(512);
    expect(host.sendBuffer?.sections).toBe(64);
    expect((await traffic(1, 200)).delivered).toBe(200);
  });

  test('-L combined 2: two channels, and traffic spreads over exactly those two', async () => {
    await h.change({ op: 'change', nic: 'nic1', change: { action: 'channels', combined: 2 } });
    expect(await h['ethtool.channels']({ op: 'ethtool.channels', nic: 'nic1' })).toMatchObject({ combined: 2 });
    const x = await h['ethtool.rxfh']({ op: 'ethtool.rxfh', nic: 'nic1' });
    expect(x.rings).toBe(2);
    expect(new Set(x.indirection)).toEqual(new Set([0, 1]));
    const { delivered, perQueue } = await traffic(16, 50);
    expect(delivered).toBe(800);
    expect(perQueue).toHaveLength(2);
    expect(perQueue.every((n) => n > 0)).toBe(true);
  });

  test('-X equal 1 puts every flow on queue 0; default spreads them again; weight and hkey show in -x', async () => {
    await h.change({ op: 'change', nic: 'nic1', change: { action: 'rxfh', equal: 1 } });
    const x1 = await h['ethtool.rxfh']({ op: 'ethtool.rxfh', nic: 'nic1' });
    expect(new Set(x1.indirection)).toEqual(new Set([0]));
    const one = await traffic(16, 50);
    expect(one.delivered).toBe(800);
    expect(one.perQueue[0]).toBeGreaterThan(0);
    expect(one.perQueue[1]).toBe(0);
    await h.change({ op: 'change', nic: 'nic1', change: { action: 'rxfh', weight: [3, 1] } });
    const xw = await h['ethtool.rxfh']({ op: 'ethtool.rxfh', nic: 'nic1' });
    expect(xw.indirection.filter((q) => q === 0).length).toBe((xw.indirection.length * 3) / 4);
    const key = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff);
    await h.change({ op: 'change', nic: 'nic1', change: { action: 'rxfh', default: true, hkey: key } });
    const xd = await h['ethtool.rxfh']({ op: 'ethtool.rxfh', nic: 'nic1' });
    expect(xd.hkey).toEqual(key);
    expect(new Set(xd.indirection)).toEqual(new Set([0, 1]));
    const spread = await traffic(16, 50);
    expect(spread.delivered).toBe(800);
    expect(spread.perQueue.every((n) => n > 0)).toBe(true);
  });

  test('-N udp4 sd: UDP flows differing only in port collapse onto one TX queue; sdfn spreads them', async () => {
    const ports = { srcPort: (i: number) => 20000 + i * 13, stack: true };
    expect(await h['ethtool.rx-flow-hash']({ op: 'ethtool.rx-flow-hash', nic: 'nic0', flowType: 'udp4' })).toEqual({ flowType: 'udp4', fields: 'sdfn' });
    const l4 = await traffic(16, 20, 'udp', ports);
    expect(l4.delivered).toBe(320);
    expect(l4.txPerQueue.filter((n) => n > 0).length).toBeGreaterThan(1);
    await h.change({ op: 'change', nic: 'nic0', change: { action: 'rx-flow-hash', flowType: 'udp4', fields: 'sd' } });
    expect(await h['ethtool.rx-flow-hash']({ op: 'ethtool.rx-flow-hash', nic: 'nic0', flowType: 'udp4' })).toEqual({ flowType: 'udp4', fields: 'sd' });
    const l3 = await traffic(16, 20, 'udp', ports);
    expect(l3.delivered).toBe(320);
    expect(l3.txPerQueue.filter((n) => n > 0)).toEqual([320]);
    // TCP keeps its own level: still spread.
    expect((await traffic(16, 20, 'tcp', ports)).txPerQueue.filter((n) => n > 0).length).toBeGreaterThan(1);
    await h.change({ op: 'change', nic: 'nic0', change: { action: 'rx-flow-hash', flowType: 'udp4', fields: 'sdfn' } });
  });

  test('-K gro off: the receiver stops merging TCP segments; -k shows gro/lro switchable, the rest fixed', async () => {
    // Host RSC off first, so what merges is the guest's GRO alone.
    await h.change({ op: 'change', nic: 'nic1', change: { action: 'features', features: { 'large-receive-offload': false } } });
    const merged = await traffic(1, 2000);
    expect(merged.delivered).toBe(2000);
    expect(merged.coalesced).toBeGreaterThan(0);
    await h.change({ op: 'change', nic: 'nic1', change: { action: 'features', features: { 'generic-receive-offload': false } } });
    const k = new Map((await h['ethtool.features']({ op: 'ethtool.features', nic: 'nic1' })).features.map((f) => [f.name, f]));
    expect(k.get('generic-receive-offload')).toEqual({ name: 'generic-receive-offload', on: false, fixed: false });
    expect(k.get('large-receive-offload')).toEqual({ name: 'large-receive-offload', on: false, fixed: false });
    expect(k.get('tx-checksumming')).toMatchObject({ on: true, fixed: true });
    const plain = await traffic(1, 2000);
    expect(plain.delivered).toBe(2000);
    expect(plain.coalesced).toBe(0);
    await h.change({ op: 'change', nic: 'nic1', change: { action: 'features', features: { 'generic-receive-offload': true, 'large-receive-offload': true } } });
    expect((await traffic(1, 2000)).coalesced).toBeGreaterThan(0);
    await expect(h.change({ op: 'change', nic: 'nic1', change: { action: 'features', features: { 'tx-checksumming': false } } })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('tx-checksumming is fixed') });
  });

  test('link set down: frames stop arriving; up: they flow again', async () => {
    await h.change({ op: 'change', nic: 'nic1', change: { action: 'link', state: 'down' } });
    expect((await h.host({ op: 'host' })).nics.find((n) => n.name === 'nic1')!.link).toBe('down');
    expect((await traffic(1, 100)).delivered).toBe(0);
    await h.change({ op: 'change', nic: 'nic1', change: { action: 'link', state: 'up' } });
    expect((await traffic(1, 100)).delivered).toBe(100);
  });

  test('MTU change shows in host info', async () => {
    await h.change({ op: 'change', nic: 'nic1', change: { action: 'mtu', mtu: 9000 } });
    expect((await h.host({ op: 'host' })).nics.find((n) => n.name === 'nic1')!.mtu).toBe(9000);
  });

  test('vf add: host shows the VF, stats the VF data path and traffic crosses it; vf remove (planned, then surprise) goes back to synthetic', async () => {
    const vfOf = async (): Promise<{ vf: string; dataPath: string }> => ({
      vf: (await h.host({ op: 'host' })).nics.find((n) => n.name === 'nic0')!.vf,
      dataPath: (await h.stats({ op: 'stats' })).nics.find((n) => n.name === 'nic0')!.dataPath,
    });
    expect(await vfOf()).toEqual({ vf: 'none', dataPath: 'synthetic' });
    expect((await h.change({ op: 'change', nic: 'nic0', change: { action: 'vf-add' } })).notes[0]).toMatch(/^VF serial \d+ assigned/);
    await run.lab.waitFor('nic0 on its VF', async () => (await vfOf()).dataPath === 'vf', 10_000);
    expect((await vfOf()).vf).toBe('active');
    const before = (await run.nic('nic0').stats()).guest.ethtool.vf_tx_packets ?? 0;
    expect((await traffic(1, 100, 'udp')).delivered).toBe(100);
    expect((await run.nic('nic0').stats()).guest.ethtool.vf_tx_packets).toBe(before + 100);
    expect((await h.change({ op: 'change', nic: 'nic0', change: { action: 'vf-remove', surprise: false } })).notes[0]).toMatch(/^data path switched to synthetic; VF removed/);
    expect(await vfOf()).toEqual({ vf: 'none', dataPath: 'synthetic' });
    expect((await traffic(1, 100, 'udp')).delivered).toBe(100);
    await h.change({ op: 'change', nic: 'nic0', change: { action: 'vf-add' } });
    await run.lab.waitFor('nic0 on its VF again', async () => (await vfOf()).dataPath === 'vf', 10_000);
    expect((await h.change({ op: 'change', nic: 'nic0', change: { action: 'vf-remove', surprise: true } })).notes[0]).toMatch(/^VF surprise-removed: in flight lost tx \d+, rx \d+/);
    await run.lab.waitFor('nic0 back on synthetic', async () => (await vfOf()).dataPath === 'synthetic', 10_000);
    expect((await vfOf()).vf).toBe('none');
    await expect(h.change({ op: 'change', nic: 'nic0', change: { action: 'vf-remove', surprise: false } })).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/no VF/) });
  });

  test('bad values are refused with the reason; unknown NICs as BAD_CONFIG', async () => {
    await expect(h.change({ op: 'change', nic: 'nic0', change: { action: 'rxfh', equal: 9 } })).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringContaining('only 4 channel(s)') });
    await expect(h['ethtool.rings']({ op: 'ethtool.rings', nic: 'eth9' })).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringContaining('nic0, nic1') });
  });

  test('a scenario NIC\'s start-up features go through -K: gro and lro off at start, shown by -k, no merging', async () => {
    const spec = validateScenario({
      name: 'features',
      host: { profile: 'azure' },
      vms: [
        { name: 'a', nics: [{ name: 'x0', queues: 2 }] },
        { name: 'b', nics: [{ name: 'x1', queues: 2, features: { gro: false, lro: false } }] },
      ],
    });
    const r2 = await ScenarioRun.create(spec, { callTimeoutMs: 20_000 });
    try {
      const k = new Map((await labControlHandler(r2)['ethtool.features']({ nic: 'x1' })).features.map((f) => [f.name, f.on]));
      expect([k.get('generic-receive-offload'), k.get('large-receive-offload')]).toEqual([false, false]);
      const sink = await r2.nic('x1').startSink({ flow: 1, count: 2000 });
      const gen = await r2.nic('x0').startGenerator({ flow: 1, protocol: 'tcp', dstMac: r2.nic('x1').mac, sizes: [200], count: 2000 });
      await r2.lab.waitFor('all 2000', async () => (await sink.report()).unique === 2000);
      await gen.stop();
      expect(await sink.stop()).toMatchObject({ unique: 2000, coalesced: 0, corrupt: 0 });
    } finally {
      await r2.close();
    }
  });
});
