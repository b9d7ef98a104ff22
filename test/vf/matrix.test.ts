// The failover matrix of issue 6: 100 cycles of each VF event under steady sequence-numbered
// traffic both ways between two VMs (VM a has the VF, VM b is synthetic), single-thread testbed.
// Targets: zero loss and zero duplicates on planned removal and link down/up; surprise removal
// loses at most what the host counted in flight on the VF; a stray VF is ignored every time.
import { afterAll, describe, expect, test } from 'vitest';
import { matrixTable, runCase, type CaseResult, type MatrixCase } from '../../src/lab/vf/matrix.js';
import { VfTestbed, type TestbedVm } from '../../src/lab/vf/testbed.js';

const CYCLES = 100;
const rows: CaseResult[] = [];
let tb: VfTestbed;
let a: TestbedVm;
let b: TestbedVm;

async function run(name: MatrixCase): Promise<CaseResult> {
  if (!tb) {
    tb = new VfTestbed({ showDelayMs: 3, ejectTimeoutMs: 500 });
    a = await tb.bootVm();
    b = await tb.bootVm();
  }
  const r = await runCase(tb, a, b, name, { cycles: CYCLES });
  rows.push(r);
  expect(r.corrupt).toBe(0);
  expect(r.sent).toBeGreaterThan(CYCLES * 8);
  expect(r.viaVf).toBeGreaterThan(0); // the VF really carried traffic
  return r;
}

describe('VF failover matrix (100 cycles each, traffic both ways)', () => {
  afterAll(() => {
    console.log(`\nVF failover matrix\n${matrixTable(rows)}\n`);
  });

  test('planned removal and re-add: nothing lost, nothing duplicated', async () => {
    const r = await run('plannedReAdd');
    expect([r.lost, r.duplicated]).toEqual([0, 0]);
    expect(r.toSyntheticMs.length).toBe(CYCLES);
    expect(a.nic.vf.counters.get('vf_planned_removals')).toBeGreaterThanOrEqual(CYCLES);
    expect(a.nic.vf.counters.get('vf_eject_timeouts')).toBe(0);
  }, 120_000);

  test('surprise removal: loses only what was in flight on the VF, and that is counted', async () => {
    const r = await run('surprise');
    expect(r.inFlightCounted).toBeGreaterThan(0);
    expect(r.lost).toBeLessThanOrEqual(r.inFlightCounted);
    expect(r.duplicated).toBe(0);
    expect(a.nic.vf.counters.get('vf_lost_tx') + a.nic.vf.counters.get('vf_lost_rx')).toBeGreaterThanOrEqual(r.inFlightCounted);
  }, 120_000);

  test('VF link down/up: nothing lost, nothing duplicated', async () => {
    const r = await run('linkDownUp');
    expect([r.lost, r.duplicated]).toEqual([0, 0]);
    expect(a.nic.vf.counters.get('vf_host_switch_back')).toBeGreaterThanOrEqual(CYCLES);
  }, 120_000);

  test('VF present at boot: the fresh guest switches to it, nothing lost', async () => {
    const r = await run('presentAtBoot');
    expect([r.lost, r.duplicated]).toEqual([0, 0]);
  }, 120_000);

  test('VF added after boot: nothing lost, nothing duplicated', async () => {
    const r = await run('addedAfterBoot');
    expect([r.lost, r.duplicated]).toEqual([0, 0]);
  }, 120_000);

  test('a VF whose serial matches no NIC is ignored every time and disturbs nothing', async () => {
    const r = await run('strayVf');
    expect(r.ignored).toBe(CYCLES);
    expect([r.lost, r.duplicated, r.reordered]).toEqual([0, 0, 0]);
  }, 120_000);
});
