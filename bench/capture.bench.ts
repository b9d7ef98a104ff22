/**
 * What capture costs on the VM-to-VM path (64 B frames, one queue, host and VMs in workers), in
 * the same run: capture off (the hooks present but null: the figure the throughput work sees),
 * every pcap layer on (guest TX/RX in the VMs, switch port in/out in the host), and pcaps plus
 * the NVSP/RNDIS trace on both sides. Each capture row's ceiling is the capture-off figure; the
 * capture-off row's ceiling is the raw VMBus ring between two workers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRingWorkers } from '../test/harness/ring-workers.js';
import type { BenchContext } from './harness.js';
import { vmToVm } from './vm.bench.js';

/** Lines in a trace file (records written; the ring's drops are not in it). */
function lines(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const count = ctx.quick ? 100_000 : 400_000;
  const dir = mkdtempSync(join(tmpdir(), 'nvsc-capbench-'));
  try {
    let off = 0;
    let pcap = 0;
    let trace = 0;
    let ceiling = 0;
    let traced = 0;
    for (let i = 0; i < 2; i++) {
      ceiling = Math.max(ceiling, (await runRingWorkers({ toHost: count, toGuest: 0, payloadLen: 64, ringPages: 128 })).host.pps);
      off = Math.max(off, await vmToVm(64, count));
      pcap = Math.max(pcap, await vmToVm(64, count, () => ({ capture: { dir: join(dir, `p${i}`) } })));
      trace = Math.max(trace, await vmToVm(64, count, () => ({ capture: { dir: join(dir, `t${i}`), trace: true } })));
      traced = Math.max(traced, lines(join(dir, `t${i}`, 'a-eth0-trace.jsonl')));
    }
    ctx.report({ name: 'vm-to-vm 64B capture off', unit: 'pps', value: off, ceiling });
    ctx.report({ name: 'vm-to-vm 64B 4 pcap layers', unit: 'pps', value: pcap, ceiling: off });
    ctx.report({ name: 'vm-to-vm 64B pcaps + traces', unit: 'pps', value: trace, ceiling: off });
    // The trace ring keeps what it can and counts the rest: how many A's guest trace kept.
    console.log(`capture bench: A's guest trace kept ${traced} records for ${count} frames (the rest counted as dropped)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
