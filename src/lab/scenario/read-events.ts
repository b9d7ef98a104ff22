/** The `events` section: `{at, nic, action, …}` → ScenarioEvent, sorted by time. */
import { FieldReader, type Issues, child } from './fields.js';
import { readNicChangeFields } from './nic-change.js';
import type { HostSpec, NicSpec, ScenarioEvent } from './types.js';

export const MAX_EVENTS = 1024;

export function readEvents(v: unknown, nics: ReadonlyMap<string, NicSpec>, host: HostSpec, issues: Issues): ScenarioEvent[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > MAX_EVENTS) {
    issues.add('events', `must be an array of at most ${MAX_EVENTS} events`);
    return [];
  }
  const events: ScenarioEvent[] = [];
  v.forEach((item, i) => {
    const r = FieldReader.of(item, child('events', i), issues);
    if (!r) return;
    const before = issues.count;
    r.require('at');
    const atMs = r.int('at', 0, 3_600_000);
    r.require('nic');
    const nicName = r.str('nic');
    const nic = nicName === undefined ? undefined : nics.get(nicName);
    if (nicName !== undefined && !nic) r.fail('nic', `no NIC named '${nicName}' (NICs: ${[...nics.keys()].join(', ') || 'none'})`);
    const change = readNicChangeFields(r);
    r.rejectUnknown();
    if (change?.action === 'vf-add' && host.overrides.sriov === false) r.fail('action', 'vf-add needs SR-IOV, which host.overrides.sriov turns off');
    if (change?.action === 'channels' && host.overrides.maxQueues !== undefined && change.combined > host.overrides.maxQueues) {
      r.fail('combined', `${change.combined} is more than host.overrides.maxQueues (${host.overrides.maxQueues})`);
    }
    if (issues.count === before && atMs !== undefined && nic && change) events.push({ atMs, nic: nic.name, change });
  });
  // Array.prototype.sort is stable, so events at the same time keep file order.
  return events.sort((a, b) => a.atMs - b.atMs);
}
