/**
 * A change to a running NIC: what `ethtool -G/-L/-X/-K/-N`, `link set`, and `vf add/remove` ask
 * for, and what a scenario's timed events do. One shape for both, so the lab applies CLI
 * requests and scenario events with the same code. The JSON form and the normalised form are
 * the same object, so `readNicChange(readNicChange(x))` is `readNicChange(x)`.
 */
import { type FeatureName, featureName } from './features.js';
import { FieldReader, type Issues, child } from './fields.js';

/** Limits from the Linux driver (protocol.md §4.7, §6.4, §6.9). */
export const NIC_LIMITS = Object.freeze({
  minSections: 10, // NETVSC_MIN_TX_SECTIONS / NETVSC_MIN_RX_SECTIONS
  maxRxSections: 18811, // 31 MiB / 1728-byte sections
  maxTxSections: 2560, // 15 MiB / 6144-byte sections
  defaultRxSections: 9709, // 16 MiB / 1728
  defaultTxSections: 170, // 1 MiB / 6144
  maxChannels: 64, // VRSS_CHANNEL_MAX
  minMtu: 68,
  maxMtu: 65521, // 65535 − 14 for NVSP ≥ 2
  rssKeyBytes: 40,
  maxIndirectionEntries: 256,
});

export const FLOW_TYPES = ['tcp4', 'tcp6', 'udp4', 'udp6'] as const;
export type FlowType = (typeof FLOW_TYPES)[number];
/** `sd` hashes addresses only (L3); `sdfn` adds the ports (L4). */
export type HashFields = 'sd' | 'sdfn';

export const NIC_CHANGE_ACTIONS = ['rings', 'channels', 'rxfh', 'features', 'rx-flow-hash', 'mtu', 'link', 'vf-add', 'vf-remove'] as const;
export type NicChangeAction = (typeof NIC_CHANGE_ACTIONS)[number];

export type NicChange =
  /** ethtool -G: receive/send buffer section counts (the driver clamps to [10, max]). */
  | { readonly action: 'rings'; readonly rx?: number; readonly tx?: number }
  /** ethtool -L combined N. */
  | { readonly action: 'channels'; readonly combined: number }
  /**
   * ethtool -X: at most one of equal / weight / default (the indirection table), and/or hkey
   * (the 40-byte Toeplitz key).
   */
  | {
      readonly action: 'rxfh';
      readonly equal?: number;
      readonly weight?: readonly number[];
      readonly default?: true;
      readonly hkey?: readonly number[];
    }
  /** ethtool -K: features switched on or off, by long name. */
  | { readonly action: 'features'; readonly features: Readonly<Partial<Record<FeatureName, boolean>>> }
  /** ethtool -N rx-flow-hash: the guest's TX hash level for one flow type (protocol.md §6.6). */
  | { readonly action: 'rx-flow-hash'; readonly flowType: FlowType; readonly fields: HashFields }
  | { readonly action: 'mtu'; readonly mtu: number }
  | { readonly action: 'link'; readonly state: 'up' | 'down' }
  | { readonly action: 'vf-add' }
  /** surprise: the VF vanishes without the host switching the data path back first. */
  | { readonly action: 'vf-remove'; readonly surprise: boolean };

/** `{lro: false, "generic-receive-offload": true}` → the same map by long names; bad entries become issues. */
export function readFeatureMap(v: unknown, path: string, issues: Issues): Partial<Record<FeatureName, boolean>> {
  const features: Partial<Record<FeatureName, boolean>> = {};
  const fr = FieldReader.of(v, path, issues);
  for (const [k, val] of Object.entries(fr?.obj ?? {})) {
    const name = featureName(k);
    if (!name) issues.add(child(path, k), 'unknown feature (see ethtool -k for the names)');
    else if (typeof val !== 'boolean') issues.add(child(path, k), 'must be true or false');
    else features[name] = val;
  }
  return features;
}

/** Parses `6d:5a:…` (40 bytes) or an array of 40 byte values. */
export function readHkey(v: unknown, path: string, issues: Issues): number[] | undefined {
  const n = NIC_LIMITS.rssKeyBytes;
  let bytes: number[] | undefined;
  if (typeof v === 'string' && /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*$/.test(v)) bytes = v.split(':').map((h) => parseInt(h, 16));
  else if (Array.isArray(v) && v.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255)) bytes = v as number[];
  if (!bytes) {
    issues.add(path, `must be ${n} hex bytes separated by colons (6d:5a:…)`);
    return undefined;
  }
  if (bytes.length !== n) {
    issues.add(path, `must be ${n} bytes (the Toeplitz key size), got ${bytes.length}`);
    return undefined;
  }
  return bytes;
}

/**
 * Reads the fields of one change from `r` (which may hold other fields, like a scenario
 * event's `at` and `nic`: the caller reads those too and then rejects unknown ones).
 */
export function readNicChangeFields(r: FieldReader): NicChange | undefined {
  if (!r.require('action')) return undefined;
  const action = r.oneOf('action', NIC_CHANGE_ACTIONS);
  if (!action) return undefined;
  const L = NIC_LIMITS;
  const before = r.issues.count;
  const ok = <T extends NicChange>(c: T): T | undefined => (r.issues.count === before ? c : undefined);
  switch (action) {
    case 'rings': {
      const rx = r.int('rx', L.minSections, L.maxRxSections);
      const tx = r.int('tx', L.minSections, L.maxTxSections);
      if (!r.has('rx') && !r.has('tx')) r.fail('rx', 'rings needs rx, tx or both');
      return ok({ action, ...(rx !== undefined ? { rx } : {}), ...(tx !== undefined ? { tx } : {}) });
    }
    case 'channels': {
      r.require('combined');
      const combined = r.int('combined', 1, L.maxChannels);
      return combined === undefined ? undefined : ok({ action, combined });
    }
    case 'rxfh':
      return ok(readRxfh(r));
    case 'features': {
      if (!r.require('features')) return undefined;
      const features = readFeatureMap(r.raw('features'), r.at('features'), r.issues);
      if (Object.keys(features).length === 0 && r.issues.count === before) r.fail('features', 'must name at least one feature');
      return ok({ action, features });
    }
    case 'rx-flow-hash': {
      r.require('flowType');
      r.require('fields');
      const flowType = r.oneOf('flowType', FLOW_TYPES);
      const fields = r.oneOf('fields', ['sd', 'sdfn'] as const);
      return flowType && fields ? ok({ action, flowType, fields }) : undefined;
    }
    case 'mtu': {
      r.require('mtu');
      const mtu = r.int('mtu', L.minMtu, L.maxMtu);
      return mtu === undefined ? undefined : ok({ action, mtu });
    }
    case 'link': {
      r.require('state');
      const state = r.oneOf('state', ['up', 'down'] as const);
      return state ? ok({ action, state }) : undefined;
    }
    case 'vf-add':
      return ok({ action });
    case 'vf-remove':
      return ok({ action, surprise: r.bool('surprise') ?? false });
  }
}

function readRxfh(r: FieldReader): NicChange {
  const L = NIC_LIMITS;
  const equal = r.int('equal', 1, L.maxChannels);
  const weightRaw = r.array('weight', L.maxIndirectionEntries);
  let weight: number[] | undefined;
  if (weightRaw) {
    if (weightRaw.length === 0) r.fail('weight', 'must list one weight per channel');
    else if (!weightRaw.every((w) => typeof w === 'number' && Number.isInteger(w) && w >= 0 && w <= 0xffff)) r.fail('weight', 'must be integers 0..65535');
    else if (!weightRaw.some((w) => w !== 0)) r.fail('weight', 'must have at least one non-zero weight');
    else weight = weightRaw as number[];
  }
  const dflt = r.bool('default');
  if (dflt === false) r.fail('default', 'must be true or left out');
  const hkey = r.has('hkey') ? readHkey(r.raw('hkey'), r.at('hkey'), r.issues) : undefined;
  const tables = [r.has('equal'), r.has('weight'), r.has('default')].filter(Boolean).length;
  if (tables > 1) r.fail('equal', 'equal, weight and default are alternatives; give one');
  if (tables === 0 && !r.has('hkey')) r.fail('equal', 'rxfh needs equal, weight, default or hkey');
  return {
    action: 'rxfh',
    ...(equal !== undefined ? { equal } : {}),
    ...(weight ? { weight } : {}),
    ...(dflt ? { default: true as const } : {}),
    ...(hkey ? { hkey } : {}),
  };
}

/** Validates one change given as a whole object (the control socket's form). */
export function readNicChange(v: unknown, path: string, issues: Issues): NicChange | undefined {
  const r = FieldReader.of(v, path, issues);
  if (!r) return undefined;
  const c = readNicChangeFields(r);
  r.rejectUnknown();
  return c;
}
