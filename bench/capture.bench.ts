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
import { macAt, parseMac, PortFrameMeta, VSwitch, type PortCaptureSink, type SwitchPort } from '../src/host/index.js';
import { NDIS_PACKET_TYPE_DIRECTED } from '../src/wire/index.js';
import { runRingWorkers } from '../test/harness/ring-workers.js';
import { nsPerOp, type BenchContext } from './harness.js';
import { vmToVm } from './vm.bench.js';

/** Lines in a trace file (records written; the ring's drops are not in it). */
function lines(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

/** ns per frame through VSwitch.forward between two ports, with or without a (no-op) capture sink on both. */
function switchNs(withSink: boolean, ms: number): number {
  const port = (name: string, mac: string): SwitchPort => ({ name, macNumber: macAt(parseMac(mac), 0), packetFilter: NDIS_PACKET_TYPE_DIRECTED, deliver: () => true });
  const sw = new VSwitch({ ageingMs: 0 });
  const a = sw.addPort(port('a', '00:15:5d:00:00:01'));
  const b = sw.addPort(port('b', '00:15:5d:00:00:02'));
  let seen = 0;
  const sink: PortCaptureSink = { frame: () => void seen++ };
  if (withSink) {
    a.setCapture(sink);
    b.setCapture(sink);
  }
  const f = new Uint8Array(64);
  f.set(parseMac('00:15:5d:00:00:02'), 0);
  f.set(parseMac('00:15:5d:00:00:01'), 6);
  const back = f.slice();
  back.set(parseMac('00:15:5d:00:00:01'), 0);
  back.set(parseMac('00:15:5d:00:00:02'), 6);
  b.forward(back, 0, 64, new PortFrameMeta()); // learn b
  const meta = new PortFrameMeta();
  const ns = nsPerOp(() => void a.forward(f, 0, 64, meta), ms);
  if (withSink && seen === 0) throw new Error('capture sink never called');
  return ns;
}

export async function run(ctx: BenchContext): Promise<void> {
  // The hook itself: one switch hop with no sink (capture off) and with a sink that does nothing.
  let off = Infinity;
  let on = Infinity;
  for (let i = 0; i < 3; i++) {
    off = Math.min(off, switchNs(false, ctx.quick ? 100 : 300));
    on = Math.min(on, switchNs(true, ctx.quick ? 100 : 300));
  }
  // Printed against the same hop without a sink (ratio > 100 % = slower): capture off costs nothing beyond that baseline.
  ctx.report({ name: 'vswitch hop 64B, no-op sink on both ports', unit: 'ns', value: on, ceiling: off });

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
