/** The `host` section of a scenario: profile, overrides, VF timing. */
import { HOST_PROFILE_NAMES, type HostProfileName } from '../../host/profiles.js';
import { FieldReader, type Issues } from './fields.js';
import type { HostOverrides, HostSpec } from './types.js';

export const HOST_DEFAULTS = Object.freeze({ profile: 'azure' as HostProfileName, vfAddDelayMs: 1000 });

export function readHost(v: unknown, issues: Issues): HostSpec {
  const fallback: HostSpec = { profile: HOST_DEFAULTS.profile, overrides: {}, vfAddDelayMs: HOST_DEFAULTS.vfAddDelayMs };
  if (v === undefined) return fallback;
  const r = FieldReader.of(v, 'host', issues);
  if (!r) return fallback;
  const profile = r.oneOf('profile', HOST_PROFILE_NAMES) ?? HOST_DEFAULTS.profile;
  const vfAddDelayMs = r.int('vfAddDelayMs', 0, 60_000) ?? HOST_DEFAULTS.vfAddDelayMs;
  let overrides: HostOverrides = {};
  if (r.has('overrides')) {
    const o = FieldReader.of(r.raw('overrides'), r.at('overrides'), issues);
    if (o) {
      const udpHash4Tuple = o.bool('udpHash4Tuple');
      const maxQueues = o.int('maxQueues', 1, 64);
      const rsc = o.bool('rsc');
      const sriov = o.bool('sriov');
      o.rejectUnknown();
      overrides = {
        ...(udpHash4Tuple !== undefined ? { udpHash4Tuple } : {}),
        ...(maxQueues !== undefined ? { maxQueues } : {}),
        ...(rsc !== undefined ? { rsc } : {}),
        ...(sriov !== undefined ? { sriov } : {}),
      };
    }
  }
  r.rejectUnknown();
  return { profile, overrides, vfAddDelayMs };
}
