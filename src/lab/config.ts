/**
 * The lab's options as a user writes them, and their checked, defaulted form (NicConfig) that
 * crosses to the host and VM workers at setup. Every bad value is a ConfigError naming the field.
 */
import { ConfigError } from '../core/index.js';
import { HOST_PROFILE_NAMES, type HostProfileName } from '../host/index.js';
import { NIC_LIMITS } from './scenario/index.js';
import { checkMac } from './traffic/spec.js';
import type { NicCaptureFiles, NicCaptureOptions } from './capture/config.js';

export type LabMode = 'workers' | 'single-thread';

export interface LabOptions {
  /** Host profile name (ws2012, ws2012r2, ws2016, ws2019, azure); azure by default. */
  readonly profile?: HostProfileName;
  /** 'workers' (default): host and each VM in their own worker. 'single-thread': one thread, pumped. */
  readonly mode?: LabMode;
  /** Longest a control call (bring-up, -G, stats) may take before it fails with TIMEOUT. */
  readonly callTimeoutMs?: number;
  /** Delay before the host shows an added VF to a guest that can take it (Hyper-V: 1000 ms, the default). */
  readonly vfShowDelayMs?: number;
  /** How long a planned VF removal waits for the guest's eject ack before removing it anyway (5000 ms). */
  readonly vfEjectTimeoutMs?: number;
}

export interface NicOptions {
  /** Unique within the VM; 'eth0', 'eth1', … by default. */
  readonly name?: string;
  /** Lower-case colon form; 00:15:5d (Hyper-V's OUI) + VM and NIC index by default. */
  readonly mac?: string;
  readonly queues?: number;
  /** ethtool -G rx: receive sections. */
  readonly rxSections?: number;
  /** ethtool -G tx: send sections. */
  readonly txSections?: number;
  readonly mtu?: number;
  /** 'boot': the NIC has an SR-IOV VF when the VM starts; 'none' (default): only addVf() brings one. */
  readonly vf?: 'boot' | 'none';
  /** Switch port VLAN mode: an id = access port on that VLAN; `{ trunk }` = tagged VLANs carried. */
  readonly vlan?: LabVlanPort;
  /** Hyper-V's MAC address spoofing: false (default) = the switch drops frames from another source MAC. */
  readonly macAddressSpoofing?: boolean;
  /** pcap files per layer and an NVSP/RNDIS trace (issue 7, docs/tap.md "Capture"). */
  readonly capture?: NicCaptureOptions;
}

export interface VmOptions {
  readonly name: string;
  readonly nics?: readonly NicOptions[];
  /** Guest memory; by default sized from the NICs' buffers and rings. */
  readonly memoryMiB?: number;
}

/** A NIC as the workers see it: every field checked and filled. */
export interface NicConfig {
  readonly name: string;
  readonly mac: string;
  readonly queues: number;
  readonly rxSections: number;
  readonly txSections: number;
  readonly mtu: number;
  /** The VMBus offer's instance GUID; the VM worker finds its NIC's offer by it. */
  readonly instanceGuid: string;
  readonly vf: 'boot' | 'none';
  /** Switch port VLAN mode (host/vswitch PortConfig.vlan); absent = the untagged network. */
  readonly vlan?: LabVlanPort;
  /** Switch port: frames from any source MAC allowed (Hyper-V MacAddressSpoofing On); default false. */
  readonly macAddressSpoofing: boolean;
  /** Capture files, when the NIC is captured (src/lab/capture). */
  readonly capture?: NicCaptureFiles;
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError('BAD_CONFIG', `${field}: ${String(v)} is not an integer in [${min}, ${max}]`);
  }
  return v;
}

const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');

export function checkProfile(v: unknown, field = 'profile'): HostProfileName {
  const name = v ?? 'azure';
  if (typeof name !== 'string' || !(HOST_PROFILE_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError('BAD_CONFIG', `${field}: '${String(name)}' is not one of ${HOST_PROFILE_NAMES.join(', ')}`);
  }
  return name as HostProfileName;
}

export function checkMode(v: unknown): LabMode {
  const m = v ?? 'workers';
  if (m !== 'workers' && m !== 'single-thread') throw new ConfigError('BAD_CONFIG', `mode: '${String(m)}' is not 'workers' or 'single-thread'`);
  return m;
}

export function checkVmName(v: unknown, taken: ReadonlySet<string>): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.-]{1,32}$/.test(v)) throw new ConfigError('BAD_CONFIG', `name: '${String(v)}' must be 1-32 letters, digits, '_', '.', '-'`);
  if (taken.has(v)) throw new ConfigError('BAD_CONFIG', `name: a VM named '${v}' already exists`);
  return v;
}

export function checkMtu(field: string, v: unknown): number {
  return int(field, v, NIC_LIMITS.minMtu, NIC_LIMITS.maxMtu);
}

export function checkRing(field: string, v: unknown, max: number): number {
  return int(field, v, NIC_LIMITS.minSections, max);
}

export function checkQueues(field: string, v: unknown): number {
  return int(field, v, 1, NIC_LIMITS.maxChannels);
}

/** A switch port's VLAN membership (host/vswitch/port.ts PortConfig.vlan). */
export type LabVlanPort = number | { readonly trunk: readonly number[] };

function checkVlanPort(field: string, v: unknown): LabVlanPort | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return int(field, v, 0, 4094);
  const t = typeof v === 'object' && v !== null ? (v as { trunk?: unknown }).trunk : undefined;
  if (!Array.isArray(t) || t.length === 0) throw new ConfigError('BAD_CONFIG', `${field}: a VLAN id or { trunk: [ids] }`);
  return { trunk: t.map((x, i) => int(`${field}.trunk[${i}]`, x, 1, 4094)) };
}

function checkVfAtBoot(field: string, v: unknown): 'boot' | 'none' {
  if (v === undefined || v === 'none' || v === 'boot') return v ?? 'none';
  throw new ConfigError('BAD_CONFIG', `${field}: '${String(v)}' is not 'boot' or 'none'`);
}

/** A VF timing option: an integer of milliseconds in [0, 60000], or the default. */
export function checkVfMs(field: string, v: unknown, dflt: number): number {
  return v === undefined ? dflt : int(field, v, 0, 60_000);
}

/** Checks and fills one NIC; `vmIndex`/`nicIndex` make the default MAC and the offer GUID unique. */
export function nicConfig(o: NicOptions, vmIndex: number, nicIndex: number, field: string): NicConfig {
  if (typeof o !== 'object' || o === null) throw new ConfigError('BAD_CONFIG', `${field}: must be an object`);
  const mac = checkMac(`${field}.mac`, o.mac ?? `00:15:5d:${hex2(vmIndex >> 8)}:${hex2(vmIndex)}:${hex2(nicIndex)}`);
  const name = o.name ?? `eth${nicIndex}`;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new ConfigError('BAD_CONFIG', `${field}.name: '${String(name)}' is not an interface name`);
  return {
    name,
    mac,
    queues: checkQueues(`${field}.queues`, o.queues ?? 1),
    rxSections: checkRing(`${field}.rxSections`, o.rxSections ?? NIC_LIMITS.defaultRxSections, NIC_LIMITS.maxRxSections),
    txSections: checkRing(`${field}.txSections`, o.txSections ?? NIC_LIMITS.defaultTxSections, NIC_LIMITS.maxTxSections),
    mtu: checkMtu(`${field}.mtu`, o.mtu ?? 1500),
    vf: checkVfAtBoot(`${field}.vf`, o.vf),
    ...(o.vlan !== undefined ? { vlan: checkVlanPort(`${field}.vlan`, o.vlan)! } : {}),
    macAddressSpoofing: checkBool(`${field}.macAddressSpoofing`, o.macAddressSpoofing ?? false),
    instanceGuid: `f8615163-${hex2(vmIndex >> 8)}${hex2(vmIndex)}-4000-8000-0000000000${hex2(nicIndex)}`,
  };
}

/** A boolean option, or a BAD_CONFIG naming the field. */
function checkBool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError('BAD_CONFIG', `${field}: ${String(v)} is not true or false`);
  return v;
}

/** Guest memory pages for a VM: each NIC's buffers at their largest -G setting plus rings, and room for the rest. */
export function vmMemoryPages(nics: readonly NicConfig[], memoryMiB: number | undefined): number {
  if (memoryMiB !== undefined) return int('memoryMiB', memoryMiB, 4, 4096) * 256;
  let bytes = 8 << 20;
  for (const n of nics) bytes += NIC_LIMITS.maxRxSections * 1728 + NIC_LIMITS.maxTxSections * 6144 + n.queues * (1 << 20) * 2;
  return Math.ceil(bytes / 4096);
}
