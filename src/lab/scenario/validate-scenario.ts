/**
 * Scenario validation: untrusted JSON in, a typed ScenarioSpec out, or one ScenarioError that
 * lists every problem by field path. Never throws anything else, whatever the input.
 */
import { ConfigError } from '../../core/index.js';
import { FieldReader, Issues } from './fields.js';
import { readEvents } from './read-events.js';
import { readFlows } from './read-flows.js';
import { readHost } from './read-host.js';
import { readVms } from './read-vms.js';
import type { NicSpec, ScenarioSpec } from './types.js';

/** A scenario that does not validate; `issues` has one `path: message` line per problem. */
export class ScenarioError extends ConfigError {
  constructor(
    readonly source: string,
    readonly issues: readonly string[],
  ) {
    super('BAD_CONFIG', `${source}: ${issues.length === 1 ? '' : `${issues.length} problems: `}${issues.join('; ')}`);
  }
}

/** Time after the last event or flow end that a run keeps going, to let traffic settle. */
export const SETTLE_MS = 500;
export const MIN_DURATION_MS = 1000;

/**
 * Validates a parsed scenario.
 * @param json the value of JSON.parse of the file
 * @param source names the input in the error message (a file name)
 * @example validateScenario({ vms: [{ name: 'vm1', nics: [{ name: 'eth0' }] }] }, 'inline').host.profile === 'azure'
 */
export function validateScenario(json: unknown, source = 'scenario'): ScenarioSpec {
  const issues = new Issues();
  const r = FieldReader.of(json, '', issues);
  if (!r) throw new ScenarioError(source, issues.list);
  const name = r.str('name', /^[A-Za-z0-9_.-]{1,64}$/, 'a name of 1..64 letters, digits, _ . -') ?? 'scenario';
  const description = r.str('description') ?? '';
  const seed = r.int('seed', 0, 0xffffffff) ?? 1;
  const durationIn = r.int('durationMs', 1, 3_600_000);
  const host = readHost(r.raw('host'), issues);
  const vms = readVms(r.raw('vms'), issues);
  const nics = new Map<string, NicSpec>(vms.flatMap((vm) => vm.nics.map((n) => [n.name, n] as const)));
  if (host.overrides.sriov === false) {
    for (const [vi, vm] of vms.entries()) {
      for (const [ni, n] of vm.nics.entries()) if (n.vf === 'boot') issues.add(`vms[${vi}].nics[${ni}].vf`, 'a VF at boot needs SR-IOV, which host.overrides.sriov turns off');
    }
  }
  const flows = readFlows(r.raw('flows'), nics, issues);
  const events = readEvents(r.raw('events'), nics, host, issues);
  r.rejectUnknown();

  const lastFlowEnd = Math.max(0, ...flows.map((f) => f.startMs + (f.durationMs ?? 0)));
  const lastEvent = Math.max(0, ...events.map((e) => e.atMs));
  const durationMs = durationIn ?? Math.max(MIN_DURATION_MS, lastEvent + SETTLE_MS, lastFlowEnd + SETTLE_MS);
  if (durationIn !== undefined) {
    events.forEach((e) => {
      if (e.atMs > durationIn) issues.add('durationMs', `${durationIn} ends before the event at ${e.atMs} ms on ${e.nic}`);
    });
  }
  if (issues.count > 0) throw new ScenarioError(source, issues.list);
  return { name, description, seed, durationMs, host, vms, flows, events };
}
