/**
 * What the lab cannot do yet, said plainly: a scenario that needs one of these fails before it
 * starts with every reason listed (exit 2), instead of running something else and passing.
 * Each entry names the piece that is missing, so the message stays true as features land.
 */
import { ConfigError } from '../../core/index.js';
import { hostProfile } from '../../host/index.js';
import type { NicChange, ScenarioSpec } from '../scenario/index.js';

/** Why a NIC change cannot be applied to a running lab NIC, or null when it can. */
export function changeUnsupported(c: NicChange): string | null {
  switch (c.action) {
    case 'rings':
    case 'channels':
    case 'mtu':
    case 'link':
    case 'vf-add':
    case 'vf-remove':
      return null;
    case 'rxfh':
    case 'features':
    case 'rx-flow-hash':
      return null;
  }
}

/** Every reason the scenario cannot run on this lab; empty when it can. */
export function scenarioUnsupported(s: ScenarioSpec): string[] {
  const out: string[] = [];
  const profile = hostProfile(s.host.profile);
  for (const [k, v] of Object.entries(s.host.overrides)) {
    // The lab starts a host from a profile name only; an override equal to the profile is a no-op.
    if (profile[k as keyof typeof s.host.overrides] !== v) out.push(`host.overrides.${k}: the lab starts hosts from a profile name only`);
  }
  s.events.forEach((e, i) => {
    const why = changeUnsupported(e.change);
    if (why) out.push(`events[${i}]: ${why}`);
  });
  return out;
}

/** Throws one UNSUPPORTED error listing every reason, or returns. */
export function assertScenarioSupported(s: ScenarioSpec): void {
  const why = scenarioUnsupported(s);
  if (why.length > 0) throw new ConfigError('UNSUPPORTED', `scenario ${s.name} needs what the lab does not have yet: ${why.join('; ')}`);
}
