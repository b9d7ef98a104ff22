/**
 * Runs a validated scenario on a lab: builds the topology it describes, starts and stops its
 * flows with the lab's traffic apps, applies its timed events, samples counters, and reads out
 * results checked against each flow's `expect`. `netvsc run` and `netvsc demo` both use it; the
 * demo keeps the lab open afterwards for the control socket (ScenarioRun.lab).
 */
import { ConfigError } from '../core/index.js';
import type { LabMode } from './config.js';
import type { LabNic } from './lab-vm.js';
import { applyChange, describeChange } from './run/apply-change.js';
import { FlowRun, flowCount } from './run/flow-run.js';
import { snapshotNic } from './run/nic-snapshot.js';
import { expectationFailures, sampleOf, type EventResult, type FlowResult, type RunSample, type ScenarioResult } from './run/results.js';
import { assertScenarioSupported } from './run/unsupported.js';
import type { NicSpec, ScenarioSpec } from './scenario/index.js';
import { Lab } from './topology.js';

export interface RunOptions {
  readonly mode?: LabMode;
  /** Run length instead of the scenario's; flow and event times scale with it (counts do not). */
  readonly durationMs?: number;
  /** How often counters are sampled for progress and the throughput chart (default 250 ms). */
  readonly sampleMs?: number;
  readonly onSample?: (s: RunSample) => void;
  readonly onEvent?: (e: EventResult) => void;
  readonly callTimeoutMs?: number;
}

/** Longest wait, after the last send, for frames still in flight to arrive. */
const DRAIN_MS = 3000;
/** Longest a counted flow may keep sending past the scenario's end. */
const COUNT_GRACE_MS = 10_000;
/** The drain ends early once nothing more arrived for this long. */
const DRAIN_QUIET_MS = 300;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ScenarioRun {
  readonly samples: RunSample[] = [];
  readonly events: EventResult[] = [];
  private readonly flows: FlowRun[] = [];
  private readonly scale: number;
  private t0 = 0;

  private constructor(
    readonly spec: ScenarioSpec,
    readonly lab: Lab,
    /** Every NIC by its scenario name (unique across VMs). */
    readonly nics: ReadonlyMap<string, LabNic>,
    private readonly o: RunOptions,
  ) {
    this.scale = o.durationMs !== undefined ? o.durationMs / spec.durationMs : 1;
    let nextId = 1;
    for (const f of spec.flows) {
      const scaled = { ...f, startMs: f.startMs * this.scale, ...(f.durationMs !== undefined ? { durationMs: Math.max(1, f.durationMs * this.scale) } : {}) };
      this.flows.push(new FlowRun(scaled, this.nic(f.from), this.nic(f.to), nextId, flowCount(scaled, this.durationMs), false, rxVlan(spec, f)));
      nextId += f.parallel;
    }
  }

  /** Checks the scenario against what the lab can do, then builds its host, VMs and NICs. */
  static async create(spec: ScenarioSpec, o: RunOptions = {}): Promise<ScenarioRun> {
    assertScenarioSupported(spec);
    if (o.durationMs !== undefined && !(Number.isInteger(o.durationMs) && o.durationMs >= 100)) throw new ConfigError('BAD_CONFIG', `duration: ${o.durationMs} ms is not an integer ≥ 100`);
    const lab = await Lab.create({ profile: spec.host.profile, vfShowDelayMs: spec.host.vfAddDelayMs, ...(o.mode ? { mode: o.mode } : {}), ...(o.callTimeoutMs ? { callTimeoutMs: o.callTimeoutMs } : {}) });
    const nics = new Map<string, LabNic>();
    try {
      for (const vm of spec.vms) {
        const v = await lab.addVm({
          name: vm.name,
          nics: vm.nics.map((n) => ({ name: n.name, mac: n.mac, queues: n.queues, rxSections: n.rxSections, txSections: n.txSections, mtu: n.mtu, vf: n.vf, ...vlanPort(n.vlan), ...(n.capture ? { capture: n.capture } : {}) })),
        });
        for (const n of v.nics) nics.set(n.name, n);
      }
      // Features named at start go through the same path as a -K event.
      for (const vm of spec.vms) for (const n of vm.nics) if (Object.keys(n.features).length > 0) await applyChange(nics.get(n.name)!, { action: 'features', features: n.features });
    } catch (e) {
      await lab.close();
      throw e;
    }
    return new ScenarioRun(spec, lab, nics, o);
  }

  get durationMs(): number {
    return Math.round(this.spec.durationMs * this.scale);
  }

  /** Milliseconds since run() started. */
  elapsed(): number {
    return performance.now() - this.t0;
  }

  nic(name: string): LabNic {
    const n = this.nics.get(name);
    if (!n) throw new ConfigError('BAD_CONFIG', `nic: no NIC '${name}' (have: ${[...this.nics.keys()].join(', ')})`);
    return n;
  }

  /** Runs flows and events for the run's duration, drains, and reads out the results. Leaves the lab running. */
  async run(): Promise<ScenarioResult> {
    this.t0 = performance.now();
    const sampleMs = this.o.sampleMs ?? 250;
    const events = this.spec.events.map((e) => ({ ...e, atMs: e.atMs * this.scale }));
    let nextEvent = 0;
    let nextSample = 0;
    for (;;) {
      const t = this.elapsed();
      for (const f of this.flows) {
        const end = f.spec.durationMs !== undefined ? f.spec.startMs + f.spec.durationMs : Infinity;
        if (f.state === 'waiting' && t >= f.spec.startMs) await f.start();
        else if (f.state === 'running' && t >= end) await f.stopSending();
      }
      while (nextEvent < events.length && events[nextEvent]!.atMs <= this.elapsed()) await this.applyEvent(events[nextEvent++]!);
      if (t >= nextSample) {
        await this.sample();
        nextSample = t + sampleMs;
      }
      if (t >= this.durationMs) break;
      await this.idle(Math.max(1, Math.min(10, this.durationMs - t)));
    }
    await this.drain();
    const flows: FlowResult[] = [];
    for (const f of this.flows) {
      const t = await f.finish();
      const s = f.spec;
      flows.push({ name: s.name, protocol: s.protocol, from: s.from, to: s.to, parallel: s.parallel, size: s.size, expect: s.expect, ...t, failures: expectationFailures(s.expect, t) });
    }
    await this.sample();
    const nics = await Promise.all([...this.nics.values()].map(snapshotNic));
    return {
      name: this.spec.name,
      description: this.spec.description,
      profile: this.lab.profile.name,
      profileTitle: this.lab.profile.title,
      mode: this.lab.mode,
      durationMs: this.durationMs,
      elapsedMs: Math.round(this.elapsed()),
      nics,
      flows,
      events: this.events,
      samples: this.samples,
      passed: flows.every((f) => f.failures.length === 0) && this.events.every((e) => e.ok),
    };
  }

  async close(): Promise<void> {
    await this.lab.close();
  }

  /** Lets time pass; in single-thread mode the loops only move when pumped, so pump meanwhile. */
  private async idle(ms: number): Promise<void> {
    if (this.lab.mode !== 'single-thread') return sleep(ms);
    const until = performance.now() + ms;
    while (performance.now() < until) await this.lab.tick();
  }

  private async applyEvent(e: ScenarioSpec['events'][number]): Promise<void> {
    const start = this.elapsed();
    const base = { atMs: Math.round(e.atMs), appliedAtMs: Math.round(start), nic: e.nic, action: e.change.action, label: `${e.nic}: ${describeChange(e.change)}` };
    let r: EventResult;
    try {
      const notes = await applyChange(this.nic(e.nic), e.change);
      r = { ...base, tookMs: Math.round(this.elapsed() - start), ok: true, notes };
    } catch (err) {
      r = { ...base, tookMs: Math.round(this.elapsed() - start), ok: false, notes: [], error: err instanceof Error ? err.message : String(err) };
    }
    this.events.push(r);
    this.o.onEvent?.(r);
  }

  private async sample(): Promise<void> {
    const snaps = await Promise.all([...this.nics.values()].map(snapshotNic));
    const s: RunSample = { atMs: Math.round(this.elapsed()), nics: snaps.map(sampleOf) };
    this.samples.push(s);
    this.o.onSample?.(s);
  }

  /** Stops every generator, then waits until the sinks stop gaining frames (or everything arrived). */
  private async drain(): Promise<void> {
    // A flow given a count (and no duration of its own) sends all of it: on a loaded machine
    // the pacing can run past the scenario's time, and its results must not depend on that.
    const counted = this.flows.filter((f) => f.state === 'running' && f.spec.count !== undefined && f.spec.durationMs === undefined);
    const until = performance.now() + COUNT_GRACE_MS;
    for (const f of counted) while (!(await f.allSent()) && performance.now() < until) await this.idle(10);
    for (const f of this.flows) await f.stopSending();
    const start = performance.now();
    let last = -1;
    let lastChange = performance.now();
    while (performance.now() - start < DRAIN_MS) {
      const totals = await Promise.all(this.flows.map((f) => f.totals()));
      if (totals.every((t) => t.unique + t.duplicated >= t.sent)) return;
      const got = totals.reduce((a, t) => a + t.delivered, 0);
      if (got !== last) {
        last = got;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > DRAIN_QUIET_MS) return;
      await this.idle(10);
    }
  }
}

/**
 * The VLAN a flow's frames reach its receiver on: a trunk port hands them over with their VLAN
 * as the VLAN PPI (untagged ones on VLAN 0); an access or untagged port without one.
 */
function rxVlan(spec: ScenarioSpec, f: ScenarioSpec['flows'][number]): number {
  const nics = spec.vms.flatMap((v) => v.nics);
  const from = nics.find((x) => x.name === f.from)?.vlan;
  const to = nics.find((x) => x.name === f.to)?.vlan;
  // On the wire: the sender's tag, else its access port's VLAN, else none.
  const onWire = f.vlan ?? (from?.mode === 'access' ? from.id : 0);
  return to?.mode === 'trunk' ? onWire : 0;
}

/** A scenario NIC's VLAN mode as the switch port's (host/vswitch PortConfig.vlan). */
function vlanPort(v: NicSpec['vlan']): { vlan?: number | { trunk: readonly number[] } } {
  if (v.mode === 'access') return { vlan: v.id };
  if (v.mode === 'trunk') return { vlan: { trunk: v.allowed } };
  return {};
}

/** Builds, runs and closes: the whole of `netvsc run`. */
export async function runScenario(spec: ScenarioSpec, o: RunOptions = {}): Promise<ScenarioResult> {
  const run = await ScenarioRun.create(spec, o);
  try {
    return await run.run();
  } finally {
    await run.close();
  }
}
