/**
 * What a scenario run produces: per NIC and per queue counters, per flow delivery, the events as
 * applied, samples over time, and whether every expectation held. Plain JSON-able data: `netvsc
 * run --json` prints it and the demo's report is drawn from it.
 */
import type { FlowExpect, FlowSpec } from '../scenario/index.js';
import type { FlowTotals } from './flow-run.js';
import type { NicSnapshot } from './nic-snapshot.js';

export interface FlowResult extends FlowTotals {
  readonly name: string;
  readonly protocol: FlowSpec['protocol'];
  readonly from: string;
  readonly to: string;
  readonly parallel: number;
  readonly size: number;
  readonly expect: FlowExpect;
  /** One line per expectation that failed; empty = the flow passed. */
  readonly failures: readonly string[];
}

export interface EventResult {
  /** When the scenario asked for it (ms from start, after any time scaling). */
  readonly atMs: number;
  /** When it was applied. */
  readonly appliedAtMs: number;
  readonly tookMs: number;
  readonly nic: string;
  readonly action: string;
  readonly label: string;
  readonly ok: boolean;
  readonly notes: readonly string[];
  readonly error?: string;
}

/** The counters the live view and the throughput chart need, per NIC, at one moment. */
export interface NicSample {
  readonly name: string;
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
  readonly queueRxPackets: readonly number[];
}

export interface RunSample {
  readonly atMs: number;
  readonly nics: readonly NicSample[];
}

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly profile: string;
  readonly profileTitle: string;
  readonly mode: string;
  readonly durationMs: number;
  readonly elapsedMs: number;
  readonly nics: readonly NicSnapshot[];
  readonly flows: readonly FlowResult[];
  readonly events: readonly EventResult[];
  readonly samples: readonly RunSample[];
  readonly passed: boolean;
}

export function sampleOf(s: NicSnapshot): NicSample {
  return { name: s.name, rxPackets: s.rxPackets, rxBytes: s.rxBytes, txPackets: s.txPackets, txBytes: s.txBytes, queueRxPackets: s.queues.map((q) => q.rxPackets) };
}

/** Every expectation of the flow that its totals break, one line each. */
export function expectationFailures(e: FlowExpect, t: FlowTotals): string[] {
  const out: string[] = [];
  if (t.corrupt > 0) out.push(`${t.corrupt} frame(s) arrived corrupt`);
  if (e.delivered === 'all' && (t.sent === 0 || t.lost > 0)) out.push(t.sent === 0 ? 'expected all delivered, but nothing was sent' : `expected all delivered, ${t.lost} of ${t.sent} lost`);
  if (e.delivered === 'none' && t.delivered > 0) out.push(`expected none delivered, ${t.delivered} arrived`);
  if (e.delivered === 'some' && t.unique === 0) out.push(`expected some delivered, none of ${t.sent} arrived`);
  if (e.maxLost !== undefined && t.lost > e.maxLost) out.push(`lost ${t.lost} > maxLost ${e.maxLost}`);
  if (e.maxReordered !== undefined && t.reordered > e.maxReordered) out.push(`reordered ${t.reordered} > maxReordered ${e.maxReordered}`);
  if (e.maxDuplicated !== undefined && t.duplicated > e.maxDuplicated) out.push(`duplicated ${t.duplicated} > maxDuplicated ${e.maxDuplicated}`);
  return out;
}
