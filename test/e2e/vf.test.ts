// SR-IOV VF failover in the workers lab (issue 6): host and VMs in their own workers, each VF's
// frame rings shared between the VM worker (the guest's VF device) and the host worker (the VF's
// switch port). Sequence-numbered UDP runs both ways the whole time while VM a's VF is removed and
// re-added (planned), its link flaps, and it is surprise-removed, 20 cycles each. The sinks count
// every frame by sequence number: planned removal and link down/up lose and duplicate nothing;
// a surprise removal loses at most what the host counted in flight on the VF.
import { describe, expect, test } from 'vitest';
import type { Lab, LabNic, SinkReport, TrafficApp, GeneratorReport } from '../../src/lab/index.js';
import { newLab } from './fixtures.js';

const CYCLES = 20;
const PPS = 20_000;
const COUNT = 5_000_000;

interface Traffic {
  readonly gens: TrafficApp<GeneratorReport>[];
  readonly sinks: TrafficApp<SinkReport>[];
}

async function startTraffic(a: LabNic, b: LabNic, flow: number): Promise<Traffic> {
  const sinks = [await b.startSink({ flow, count: COUNT }), await a.startSink({ flow: flow + 1, count: COUNT })];
  const gens = [
    await a.startGenerator({ flow, dstMac: b.mac, sizes: [128, 700], count: COUNT, pps: PPS, batch: 8 }),
    await b.startGenerator({ flow: flow + 1, dstMac: a.mac, sizes: [128, 700], count: COUNT, pps: PPS, batch: 8 }),
  ];
  return { gens, sinks };
}

/** Stops sending, waits until every sent frame is either in or the sinks are quiet, returns per-direction totals. */
async function stopTraffic(lab: Lab, t: Traffic): Promise<{ sent: number; unique: number; lost: number; duplicated: number; reordered: number; corrupt: number }> {
  const sent = (await Promise.all(t.gens.map((g) => g.stop()))).map((r) => r.sent);
  let last = -1;
  let since = performance.now();
  // Done when every frame is in, or nothing arrived for 2 s (a starved VM worker on a loaded box
  // can pause for hundreds of ms: a shorter quiet window would call frames still queued lost).
  await lab.waitFor('the sinks to settle', async () => {
    const rs = await Promise.all(t.sinks.map((s) => s.report()));
    const got = rs.reduce((n, r) => n + r.delivered, 0);
    if (got !== last) [last, since] = [got, performance.now()];
    return rs.every((r, i) => r.unique >= sent[i]!) || performance.now() - since > 2000;
  });
  const rs = await Promise.all(t.sinks.map((s) => s.stop()));
  const sum = (f: (r: SinkReport) => number): number => rs.reduce((n, r) => n + f(r), 0);
  const total = sent[0]! + sent[1]!;
  return { sent: total, unique: sum((r) => r.unique), lost: total - sum((r) => r.unique), duplicated: sum((r) => r.duplicated), reordered: sum((r) => r.reordered), corrupt: sum((r) => r.corrupt) };
}

const vfState = async (n: LabNic): Promise<{ host: string; guest: string; vfTx: number; vfRx: number }> => {
  const s = await n.stats();
  return { host: s.host.vf.state, guest: s.guest.vf.dataPath, vfTx: s.guest.ethtool.vf_tx_packets ?? 0, vfRx: s.guest.ethtool.vf_rx_packets ?? 0 };
};

async function onVf(lab: Lab, n: LabNic, what: string): Promise<void> {
  await lab.waitFor(`${n.name} on its VF (${what})`, async () => {
    const s = await vfState(n);
    return s.host === 'switched' && s.guest === 'onVf';
  });
}

async function onSynthetic(lab: Lab, n: LabNic, what: string, hostState: string): Promise<void> {
  await lab.waitFor(`${n.name} back on synthetic (${what})`, async () => {
    const s = await vfState(n);
    return s.host === hostState && s.guest === 'synthetic';
  });
}

/** Lets traffic cross the VF until at least `frames` more went over it both ways. */
async function viaVf(lab: Lab, n: LabNic, frames: number): Promise<void> {
  const s0 = await vfState(n);
  await lab.waitFor(`${frames} frames over ${n.name}'s VF`, async () => {
    const s = await vfState(n);
    return s.vfTx - s0.vfTx >= frames && s.vfRx - s0.vfRx >= frames;
  });
}

describe('VF failover in the workers lab', () => {
  test('a VF at boot: both NICs reach their VFs; VF stats and events are visible through nic.stats()', async () => {
    const lab = await newLab({ profile: 'azure', vfShowDelayMs: 20 });
    const a = (await lab.addVm({ name: 'a', nics: [{ vf: 'boot' }] })).nics[0]!;
    const b = (await lab.addVm({ name: 'b', nics: [{ vf: 'boot' }] })).nics[0]!;
    await onVf(lab, a, 'boot');
    await onVf(lab, b, 'boot');
    const t = await startTraffic(a, b, 10);
    await viaVf(lab, a, 500);
    const r = await stopTraffic(lab, t);
    const s = await a.stats();
    const sb = await b.stats();
    const nz = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== 0 && /drop|vf|busy|full|lost/.test(k)));
    expect(r, JSON.stringify([nz(s.guest.ethtool), nz(s.host.vf.counters), nz(sb.guest.ethtool), nz(sb.host.vf.counters), s.guest.lab, sb.guest.lab])).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, corrupt: 0 });
    // The frames went over the VF, not VMBus: the VF device counted them, the host's VF port too.
    expect(s.guest.ethtool.vf_tx_packets).toBeGreaterThanOrEqual(500);
    expect(s.guest.vf.device).toMatchObject({ name: expect.stringMatching(/^enP\d+s1$/) });
    expect(s.guest.vf.device!.tx_packets).toBe(s.guest.ethtool.vf_tx_packets);
    expect(s.guest.vf.device!.rx_packets).toBe(s.guest.ethtool.vf_rx_packets);
    expect(s.host.vf.counters.vf_frames_from_guest).toBe(s.guest.ethtool.vf_tx_packets);
    expect(s.host.vfEvents.map((e) => e.what)).toEqual(['added', 'shown', 'switched']);
    expect(s.guest.vf.events.map((e) => e.what)).toEqual(['vfAdded', 'dataPathSwitched']);
    expect(s.guest.ethtool.vf_registered).toBe(1);
  });

  test(`${CYCLES} cycles each of planned removal + re-add, VF link down/up, surprise removal under traffic both ways`, async () => {
    const lab = await newLab({ profile: 'azure', vfShowDelayMs: 5, callTimeoutMs: 30_000 });
    const a = (await lab.addVm({ name: 'a', nics: [{ vf: 'boot' }] })).nics[0]!;
    const b = (await lab.addVm({ name: 'b', nics: [{ vf: 'boot' }] })).nics[0]!;
    await onVf(lab, a, 'boot');
    await onVf(lab, b, 'boot');

    // Planned removal and re-add.
    let t = await startTraffic(a, b, 100);
    for (let c = 0; c < CYCLES; c++) {
      await viaVf(lab, a, 20);
      expect(await a.removeVf()).toBeNull();
      await onSynthetic(lab, a, `planned ${c}`, 'none');
      await a.addVf();
      await onVf(lab, a, `re-add ${c}`);
    }
    const planned = await stopTraffic(lab, t);
    expect(planned, 'planned removal').toMatchObject({ lost: 0, duplicated: 0, reordered: 0, corrupt: 0 });
    expect(planned.sent).toBeGreaterThan(CYCLES * 40);

    // VF link down / up.
    t = await startTraffic(a, b, 200);
    for (let c = 0; c < CYCLES; c++) {
      await viaVf(lab, a, 20);
      await a.setVfLink(false);
      await onSynthetic(lab, a, `link down ${c}`, 'synthetic');
      await a.setVfLink(true);
      await onVf(lab, a, `link up ${c}`);
    }
    const link = await stopTraffic(lab, t);
    expect(link, 'link down/up').toMatchObject({ lost: 0, duplicated: 0, reordered: 0, corrupt: 0 });

    // Surprise removal: whatever sat in the VF's rings is gone, and counted by the host.
    t = await startTraffic(a, b, 300);
    let inFlight = 0;
    for (let c = 0; c < CYCLES; c++) {
      await viaVf(lab, a, 20);
      const loss = await a.removeVf({ surprise: true });
      expect(loss).not.toBeNull();
      inFlight += loss!.lostTx + loss!.lostRx;
      await onSynthetic(lab, a, `surprise ${c}`, 'none');
      await a.addVf();
      await onVf(lab, a, `re-add after surprise ${c}`);
    }
    const surprise = await stopTraffic(lab, t);
    expect(surprise, 'surprise removal').toMatchObject({ duplicated: 0, corrupt: 0 });
    expect(surprise.lost).toBe(inFlight);

    const s = await a.stats();
    expect(s.host.vf.counters).toMatchObject({ vf_planned_removals: CYCLES, vf_surprise_removals: CYCLES, vf_added: 2 * CYCLES + 1 });
    expect(s.host.vf.counters.vf_lost_tx + s.host.vf.counters.vf_lost_rx).toBe(inFlight);
    expect(s.guest.ethtool).toMatchObject({ vf_removed_planned: CYCLES, vf_removed_surprise: CYCLES, vf_registered: 2 * CYCLES + 1 });
    console.log(
      `VF failover (workers, ${CYCLES} cycles each, ${PPS} pps each way):\n` +
        `  planned: sent ${planned.sent} lost ${planned.lost} dup ${planned.duplicated} reordered ${planned.reordered}\n` +
        `  link down/up: sent ${link.sent} lost ${link.lost} dup ${link.duplicated} reordered ${link.reordered}\n` +
        `  surprise: sent ${surprise.sent} lost ${surprise.lost} (in flight counted ${inFlight}) dup ${surprise.duplicated} reordered ${surprise.reordered}`,
    );
  }, 240_000);

  test('single-thread mode: the same VF wiring (add after boot, planned removal) loses nothing', async () => {
    const lab = await newLab({ profile: 'azure', mode: 'single-thread', vfShowDelayMs: 5 });
    const a = (await lab.addVm({ name: 'a' })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!;
    const t = await startTraffic(a, b, 400);
    const serial = await a.addVf();
    await onVf(lab, a, 'added after boot');
    expect((await a.stats()).guest.vf.serial).toBe(serial);
    await viaVf(lab, a, 50);
    await a.removeVf();
    await onSynthetic(lab, a, 'planned', 'none');
    const r = await stopTraffic(lab, t);
    expect(r).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, corrupt: 0 });
  });

  test('the host rescinds and re-offers a NIC that is on its VF: the VF goes with the old NIC, the re-probed NIC runs synthetic and takes a new VF', async () => {
    const lab = await newLab({ profile: 'azure', vfShowDelayMs: 5 });
    const a = (await lab.addVm({ name: 'a', nics: [{ vf: 'boot' }] })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!;
    await onVf(lab, a, 'boot');
    await lab.hostClient.call('reofferNic', ['a', a.name]);
    await lab.waitFor('A to re-probe its NIC', async () => (await a.stats().catch(() => null))?.guest.lab.reprobes === 1);
    const s = await a.stats();
    expect([s.host.vf.state, s.guest.vf.dataPath, s.guest.vf.serial]).toEqual(['none', 'synthetic', null]);
    // The old NIC's VF port left the switch with it (no stale steering of A's MAC to a dead VF).
    expect(Object.keys((await lab.hostStats()).switchPorts).filter((p) => p.endsWith('/vf'))).toEqual([]);
    // The switch steers nothing to the old VF port any more: traffic both ways on the synthetic path.
    let t = await startTraffic(a, b, 500);
    await lab.waitFor('traffic on the re-offered NIC', async () => (await Promise.all(t.sinks.map((x) => x.report()))).every((r) => r.unique > 200));
    expect(await stopTraffic(lab, t)).toMatchObject({ lost: 0, duplicated: 0, corrupt: 0 });
    await a.addVf();
    await onVf(lab, a, 'a new VF on the re-offered NIC');
    t = await startTraffic(a, b, 600);
    await viaVf(lab, a, 100);
    expect(await stopTraffic(lab, t)).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, corrupt: 0 });
  });

  test('bad VF calls are typed errors: a second VF, removing none, a bad vf option', async () => {
    const lab = await newLab({ profile: 'azure', mode: 'single-thread', vfShowDelayMs: 5 });
    const a = (await lab.addVm({ name: 'a', nics: [{ vf: 'boot' }] })).nics[0]!;
    await expect(a.addVf()).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/already has a VF/) });
    await a.removeVf({ surprise: true });
    await expect(a.removeVf()).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/no VF/) });
    // @ts-expect-error: a value outside the union, as JSON could carry it
    await expect(lab.addVm({ name: 'c', nics: [{ vf: 'yes' }] })).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/^nics\[0\]\.vf: 'yes'/) });
    await expect(newLab({ vfShowDelayMs: -1 })).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/^vfShowDelayMs/) });
  });
});
