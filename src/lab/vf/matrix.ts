/**
 * The failover matrix (issue 6): under steady sequence-numbered traffic in both directions between
 * two VMs, many cycles of one VF event, with lost / duplicated / reordered frames counted from the
 * sequence numbers and what the host counted in flight on the VF when it vanished. Shared by
 * test/vf/matrix.test.ts and bench/vf.bench.ts.
 */
import { SeqFlow } from './seq-flow.js';
import type { TestbedVm, VfTestbed } from './testbed.js';

export const MATRIX_CASES = ['plannedReAdd', 'surprise', 'linkDownUp', 'presentAtBoot', 'addedAfterBoot', 'strayVf'] as const;
export type MatrixCase = (typeof MATRIX_CASES)[number];

export interface CaseResult {
  readonly name: MatrixCase;
  readonly cycles: number;
  readonly sent: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly reordered: number;
  readonly corrupt: number;
  /** Frames the host found queued on the VF when it vanished (surprise removal). */
  readonly inFlightCounted: number;
  /** Frames that crossed the VF (guest vf_tx + vf_rx) during the case. */
  readonly viaVf: number;
  /** Per cycle: ms (testbed wall time) from the removal notice until a frame sent after it on the synthetic path arrived. */
  readonly toSyntheticMs: readonly number[];
  /** Stray VFs ignored (strayVf case). */
  readonly ignored: number;
}

export interface MatrixOptions {
  readonly cycles: number;
  /** Frames per direction per tick. */
  readonly burst?: number;
  /** Ticks of traffic between events. */
  readonly trafficTicks?: number;
  readonly frameLen?: number;
}

const onVf = (vm: TestbedVm): boolean => vm.dev.failover.dataPathIsVf && vm.nic.vf.state.kind === 'switched';
const onSynthetic = (vm: TestbedVm): boolean => vm.dev.failover.path.kind === 'synthetic' && vm.dev.failover.vf === null;

class Pair {
  readonly ab: SeqFlow;
  readonly ba: SeqFlow;
  constructor(a: TestbedVm, b: TestbedVm, flow: number, frameLen: number) {
    this.ab = new SeqFlow(a.dev, a.mac, b.mac, flow, frameLen);
    this.ba = new SeqFlow(b.dev, b.mac, a.mac, flow + 1, frameLen);
    b.onFrame = (u8, off, len) => void this.ab.receive(u8, off, len);
    a.onFrame = (u8, off, len) => void this.ba.receive(u8, off, len);
  }
  step(burst: number): void {
    this.ab.pump(burst);
    this.ba.pump(burst);
  }
}

let nextFlow = 1000;
let nextSerial = 100;

/** Runs one case for `o.cycles` cycles on VMs a and b (a gets the VF; b stays synthetic). */
export async function runCase(tb: VfTestbed, a0: TestbedVm, b: TestbedVm, name: MatrixCase, o: MatrixOptions): Promise<CaseResult> {
  const burst = o.burst ?? 4;
  const ticks = o.trafficTicks ?? 4;
  const frameLen = o.frameLen ?? 128;
  let a = a0;
  const pairs: Pair[] = [];
  let pair = new Pair(a, b, (nextFlow += 2), frameLen);
  pairs.push(pair);
  const step = (): void => pair.step(burst);
  const traffic = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      step();
      await tb.tick();
    }
  };
  const vfFrames = (vm: TestbedVm): number => vm.dev.counters.get('vf_tx_packets') + vm.dev.counters.get('vf_rx_packets');
  let viaVf = 0;
  let inFlight = 0;
  let ignored = 0;
  const toSynthetic: number[] = [];
  /** From the removal notice: wait until a frame sent on the synthetic path after it has arrived. */
  const timeToSynthetic = async (t0: number): Promise<void> => {
    await tb.waitFor('the synthetic path', () => onSynthetic(a) || (name === 'linkDownUp' && !a.dev.failover.dataPathIsVf), step);
    const mark = pair.ab.sent;
    await tb.waitFor('a synthetic frame at the peer', () => pair.ab.highestSeq >= mark, step);
    toSynthetic.push(performance.now() - t0);
  };
  const ensureVf = async (): Promise<void> => {
    if (a.nic.vf.state.kind === 'none') tb.addVf(a, nextSerial++);
    await tb.waitFor('data path on the VF', () => onVf(a), step);
  };
  const before = vfFrames(a);
  if (name !== 'addedAfterBoot' && name !== 'presentAtBoot') await ensureVf();
  if (name === 'addedAfterBoot' && a.nic.vf.state.kind !== 'none') {
    a.nic.vf.remove(true);
    await tb.waitFor('the VF to leave', () => a.nic.vf.state.kind === 'none', step);
  }
  for (let c = 0; c < o.cycles; c++) {
    switch (name) {
      case 'plannedReAdd': {
        await traffic(ticks);
        const t0 = performance.now();
        a.nic.vf.remove(true);
        await timeToSynthetic(t0);
        await tb.waitFor('the VF to leave', () => a.nic.vf.state.kind === 'none', step);
        await ensureVf();
        break;
      }
      case 'surprise': {
        await traffic(ticks);
        step(); // frames now queued on the VF: in flight when it vanishes
        const t0 = performance.now();
        const loss = a.nic.vf.remove(false);
        inFlight += loss === null ? 0 : loss.lostTx + loss.lostRx;
        await timeToSynthetic(t0);
        await ensureVf();
        break;
      }
      case 'linkDownUp': {
        await traffic(ticks);
        const t0 = performance.now();
        a.nic.vf.setLink(false);
        await timeToSynthetic(t0);
        await traffic(ticks);
        a.nic.vf.setLink(true);
        await ensureVf();
        break;
      }
      case 'presentAtBoot': {
        // A fresh VM per cycle whose NIC has its VF before the guest driver ever probes.
        a = await tb.bootVm({ vfSerial: nextSerial++ });
        pair = new Pair(a, b, (nextFlow += 2), frameLen);
        pairs.push(pair);
        await tb.waitFor('data path on the VF at boot', () => onVf(a), step);
        await traffic(ticks);
        await quiesce(tb, pair);
        viaVf += vfFrames(a);
        await tb.shutdownVm(a);
        break;
      }
      case 'addedAfterBoot': {
        await traffic(ticks);
        tb.addVf(a, nextSerial++);
        await tb.waitFor('data path on the VF', () => onVf(a), step);
        await traffic(ticks);
        a.nic.vf.remove(true);
        await tb.waitFor('the VF to leave', () => a.nic.vf.state.kind === 'none', step);
        break;
      }
      case 'strayVf': {
        const was = a.dev.failover.counters.get('vf_ignored');
        const stray = tb.plugStrayVf(a, 50_000 + c);
        await traffic(ticks);
        if (a.dev.failover.counters.get('vf_ignored') === was + 1 && a.dev.failover.vf !== stray.guest && onVf(a)) ignored++;
        stray.host.unplug();
        await traffic(1);
        break;
      }
    }
  }
  if (name === 'presentAtBoot') {
    pair = new Pair(a0, b, (nextFlow += 2), frameLen); // restore a0's consumer
  } else {
    await quiesce(tb, pair);
    viaVf += vfFrames(a) - before;
  }
  let sent = 0, lost = 0, duplicated = 0, reordered = 0, corrupt = 0;
  for (const p of pairs) {
    for (const f of [p.ab, p.ba]) {
      const r = f.result();
      sent += r.sent;
      lost += r.lost;
      duplicated += r.duplicated;
      reordered += r.reordered;
      corrupt += r.corrupt;
    }
  }
  return { name, cycles: o.cycles, sent, lost, duplicated, reordered, corrupt, inFlightCounted: inFlight, viaVf, toSyntheticMs: toSynthetic, ignored };
}

/** Stops sending and ticks until nothing is left in any ring (lost is exact afterwards). */
async function quiesce(tb: VfTestbed, p: Pair): Promise<void> {
  let quiet = 0;
  let last = -1;
  for (let i = 0; i < 2000 && quiet < 20; i++) {
    await tb.tick();
    const seen = p.ab.sink.delivered + p.ba.sink.delivered;
    quiet = seen === last ? quiet + 1 : 0;
    last = seen;
  }
}

/** The table the test prints and docs/vf.md shows. */
export function matrixTable(rows: readonly CaseResult[]): string {
  const pct = (xs: readonly number[], q: number): number => (xs.length === 0 ? 0 : [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!);
  const head = '| case | cycles | frames sent | via VF | lost | duplicated | reordered | in flight counted | removal→synthetic median / max (ms) |';
  const sep = '| --- | --- | --- | --- | --- | --- | --- | --- | --- |';
  const body = rows.map((r) => `| ${r.name}${r.name === 'strayVf' ? ` (${r.ignored} ignored)` : ''} | ${r.cycles} | ${r.sent} | ${r.viaVf} | ${r.lost} | ${r.duplicated} | ${r.reordered} | ${r.inFlightCounted} | ${r.toSyntheticMs.length ? `${pct(r.toSyntheticMs, 0.5).toFixed(3)} / ${Math.max(...r.toSyntheticMs).toFixed(3)}` : '—'} |`);
  return [head, sep, ...body].join('\n');
}
