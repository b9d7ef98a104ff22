/** The `vms` section: VMs and their NICs, with defaults and scenario-wide uniqueness checks. */
import { isIPv4, isIPv6 } from 'node:net';
import { FieldReader, type Issues, child } from './fields.js';
import { NIC_LIMITS, readFeatureMap } from './nic-change.js';
import { CAPTURE_LAYER_NAMES, type CaptureLayerName, type NicCapture, type NicSpec, type VlanPort, type VmSpec } from './types.js';

/** Linux interface names: at most 15 characters (IFNAMSIZ − 1). */
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
const NAME_WHAT = 'a name of 1..15 letters, digits, _ . - starting with a letter';
const MAC_PATTERN = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export const VM_DEFAULTS = Object.freeze({ vcpus: 2, maxVms: 16, maxNicsPerVm: 8, mtu: 1500 });

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

export function readVms(v: unknown, issues: Issues): VmSpec[] {
  if (v === undefined) {
    issues.add('vms', 'is required: at least one VM with one NIC');
    return [];
  }
  if (!Array.isArray(v) || v.length === 0 || v.length > VM_DEFAULTS.maxVms) {
    issues.add('vms', `must be an array of 1..${VM_DEFAULTS.maxVms} VMs`);
    return [];
  }
  const vms: VmSpec[] = [];
  const vmNames = new Set<string>();
  const nicNames = new Set<string>();
  const macs = new Set<string>();
  const addrs = new Set<string>();
  let nicIndex = 0;
  v.forEach((item, vi) => {
    const r = FieldReader.of(item, child('vms', vi), issues);
    if (!r) return;
    r.require('name');
    const name = r.str('name', NAME_PATTERN, NAME_WHAT) ?? `vm${vi}`;
    if (vmNames.has(name)) r.fail('name', `duplicate VM name '${name}'`);
    vmNames.add(name);
    const vcpus = r.int('vcpus', 1, 64) ?? VM_DEFAULTS.vcpus;
    const nicsRaw = r.array('nics', VM_DEFAULTS.maxNicsPerVm);
    if (!nicsRaw || nicsRaw.length === 0) {
      if (!r.has('nics') || nicsRaw) r.fail('nics', `must list 1..${VM_DEFAULTS.maxNicsPerVm} NICs`);
    }
    const nics: NicSpec[] = [];
    (nicsRaw ?? []).forEach((n, ni) => {
      const nic = readNic(n, child(r.at('nics'), ni), issues, { vm: name, vmIndex: vi, nicIndex: nicIndex++, vcpus });
      if (!nic) return;
      const p = child(r.at('nics'), ni);
      if (nicNames.has(nic.name)) issues.add(`${p}.name`, `duplicate NIC name '${nic.name}' (NIC names are unique across VMs)`);
      if (macs.has(nic.mac)) issues.add(`${p}.mac`, `duplicate MAC ${nic.mac}`);
      for (const a of [nic.ipv4, nic.ipv6]) if (addrs.has(a)) issues.add(`${p}.${isIPv4(a) ? 'ipv4' : 'ipv6'}`, `duplicate address ${a}`);
      nicNames.add(nic.name);
      macs.add(nic.mac);
      addrs.add(nic.ipv4).add(nic.ipv6);
      nics.push(nic);
    });
    r.rejectUnknown();
    vms.push({ name, vcpus, nics });
  });
  return vms;
}

interface NicContext {
  readonly vm: string;
  readonly vmIndex: number;
  readonly nicIndex: number;
  readonly vcpus: number;
}

function readNic(v: unknown, path: string, issues: Issues, ctx: NicContext): NicSpec | undefined {
  const r = FieldReader.of(v, path, issues);
  if (!r) return undefined;
  const L = NIC_LIMITS;
  r.require('name');
  const name = r.str('name', NAME_PATTERN, NAME_WHAT) ?? `eth${ctx.nicIndex}`;
  const macIn = r.str('mac', MAC_PATTERN, 'a MAC address xx:xx:xx:xx:xx:xx');
  if (macIn && (parseInt(macIn.slice(0, 2), 16) & 1) === 1) r.fail('mac', 'must be a unicast address (first octet even)');
  const mac = (macIn ?? `00:15:5d:00:${hex2(ctx.vmIndex)}:${hex2(ctx.nicIndex)}`).toLowerCase();
  const ipv4 = r.str('ipv4') ?? `10.0.0.${ctx.nicIndex + 1}`;
  if (r.has('ipv4') && !isIPv4(ipv4)) r.fail('ipv4', `must be an IPv4 address, got "${ipv4}"`);
  const ipv6 = r.str('ipv6') ?? `fd00::${(ctx.nicIndex + 1).toString(16)}`;
  if (r.has('ipv6') && !isIPv6(ipv6)) r.fail('ipv6', `must be an IPv6 address, got "${ipv6}"`);
  // Linux asks for min(CPUs, 8) channels by default (VRSS_CHANNEL_DEFAULT; peers.md §1).
  const queues = r.int('queues', 1, L.maxChannels) ?? Math.min(ctx.vcpus, 8);
  const rxSections = r.int('rxSections', L.minSections, L.maxRxSections) ?? L.defaultRxSections;
  const txSections = r.int('txSections', L.minSections, L.maxTxSections) ?? L.defaultTxSections;
  const mtu = r.int('mtu', L.minMtu, L.maxMtu) ?? VM_DEFAULTS.mtu;
  const vlan = r.has('vlan') ? readVlan(r.raw('vlan'), r.at('vlan'), issues) : { mode: 'untagged' as const };
  const vf = r.oneOf('vf', ['boot', 'none'] as const) ?? 'none';
  const features = r.has('features') ? readFeatureMap(r.raw('features'), r.at('features'), issues) : {};
  const capture = r.has('capture') ? readCapture(r.raw('capture'), r.at('capture'), issues) : undefined;
  r.rejectUnknown();
  return { name, vm: ctx.vm, mac, ipv4, ipv6, queues, rxSections, txSections, mtu, vlan, vf, features, ...(capture ? { capture } : {}) };
}

function readCapture(v: unknown, path: string, issues: Issues): NicCapture | undefined {
  const r = FieldReader.of(v, path, issues);
  if (!r) return undefined;
  r.require('dir');
  const dir = r.str('dir', /^.+$/, 'a directory path') ?? '';
  let layers: readonly CaptureLayerName[] = CAPTURE_LAYER_NAMES;
  if (r.has('layers')) {
    const a = r.array('layers', CAPTURE_LAYER_NAMES.length);
    if (a && (a.length === 0 || !a.every((x) => (CAPTURE_LAYER_NAMES as readonly unknown[]).includes(x)))) {
      r.fail('layers', `must be a non-empty array of ${CAPTURE_LAYER_NAMES.join(', ')}`);
    } else if (a) layers = [...new Set(a as CaptureLayerName[])];
  }
  const trace = r.bool('trace') ?? false;
  r.rejectUnknown();
  return { dir, layers, trace };
}

function readVlan(v: unknown, path: string, issues: Issues): VlanPort {
  const untagged = { mode: 'untagged' as const };
  const r = FieldReader.of(v, path, issues);
  if (!r) return untagged;
  r.require('mode');
  const mode = r.oneOf('mode', ['untagged', 'access', 'trunk'] as const) ?? 'untagged';
  let port: VlanPort = untagged;
  if (mode === 'access') {
    r.require('id');
    port = { mode, id: r.int('id', 1, 4094) ?? 1 };
  } else if (mode === 'trunk') {
    r.require('allowed');
    const a = r.array('allowed', 4094);
    if (a && (a.length === 0 || !a.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 4094))) {
      r.fail('allowed', 'must be a non-empty array of VLAN ids 1..4094');
    }
    port = { mode, allowed: [...new Set((a ?? []) as number[])].sort((x, y) => x - y) };
  }
  r.rejectUnknown();
  return port;
}
