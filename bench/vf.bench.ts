/**
 * VF failover figures (issue 6) on the single-thread VF testbed: the time from a removal notice
 * (planned removal, surprise removal, VF link down) until a frame sent on the synthetic path after
 * it has reached the peer — median and max over N cycles — and one-way throughput of 1514-byte
 * frames over the VF path versus the synthetic (VMBus) path, measured in the same run.
 */
import { runCase } from '../src/lab/vf/matrix.js';
import { SeqFlow } from '../src/lab/vf/seq-flow.js';
import { VfTestbed, type TestbedVm } from '../src/lab/vf/testbed.js';
import type { BenchContext } from './harness.js';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function throughputPps(tb: VfTestbed, a: TestbedVm, b: TestbedVm, flow: number, ms: number): Promise<number> {
  const f = new SeqFlow(a.dev, a.mac, b.mac, flow, 1514);
  b.onFrame = (u8, off, len) => void f.receive(u8, off, len);
  const end = performance.now() + ms;
  const start = performance.now();
  while (performance.now() < end) {
    f.pump(32);
    tb.loop.drain(64);
  }
  for (let i = 0; i < 50; i++) tb.loop.drain(64);
  return f.sink.unique / ((performance.now() - start) / 1000);
}

export async function run(ctx: BenchContext): Promise<void> {
  const cycles = ctx.quick ? 20 : 100;
  const tb = new VfTestbed({ showDelayMs: 3, ejectTimeoutMs: 500 });
  const a = await tb.bootVm();
  const b = await tb.bootVm();
  for (const name of ['plannedReAdd', 'surprise', 'linkDownUp'] as const) {
    const r = await runCase(tb, a, b, name, { cycles });
    const us = r.toSyntheticMs.map((x) => x * 1000);
    ctx.report({ name: `vf ${name}: removal notice → synthetic frame at peer, median (${cycles} cycles)`, unit: 'us', value: median(us) });
    ctx.report({ name: `vf ${name}: removal notice → synthetic frame at peer, max`, unit: 'us', value: Math.max(...us) });
  }
  const ms = ctx.quick ? 200 : 1000;
  // VF path: a's NIC has a VF and the data path is on it.
  if (a.nic.vf.state.kind === 'none') tb.addVf(a, 9000);
  await tb.waitFor('data path on the VF', () => a.dev.failover.dataPathIsVf);
  const vfPps = await throughputPps(tb, a, b, 7001, ms);
  a.nic.vf.remove(true);
  await tb.waitFor('the VF to leave', () => a.nic.vf.state.kind === 'none');
  const synPps = await throughputPps(tb, a, b, 7003, ms);
  const gbit = (pps: number): number => (pps * 1514 * 8) / 1e9;
  ctx.report({ name: 'vf path 1514 B frames a→b', unit: 'Gbit/s', value: gbit(vfPps), ceiling: gbit(Math.max(vfPps, synPps)), ratio: vfPps / Math.max(vfPps, synPps) });
  ctx.report({ name: 'synthetic path 1514 B frames a→b (same run)', unit: 'Gbit/s', value: gbit(synPps), ceiling: gbit(Math.max(vfPps, synPps)), ratio: synPps / Math.max(vfPps, synPps) });
}
