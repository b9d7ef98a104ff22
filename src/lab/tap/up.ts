/**
 * `netvsc up` as a lab function: the emulated host and N VMs, each VM's synthetic NIC a TAP in
 * its own network namespace (nvsc-vmI, interface nvsc-vIeth0, 10.77.0.(I+1)/24), all on the
 * host's virtual switch. Everything is recorded in io's Netns state file before it is made, so
 * `netvsc down` (tapDown) removes it, also after a crash, and nothing without the prefix.
 */
import { ConfigError } from '../../core/index.js';
import type { HostProfileName } from '../../host/index.js';
import { Netns, type DownReport } from '../../io/index.js';
import { checkMtu, checkProfile, checkQueues, type LabVlanPort } from '../config.js';
import { Lab } from '../topology.js';
import { attachNicTap, requireTap, type NicTap } from './attach.js';
import { attachUplink, checkUplinkVlan, uplinkIfName, type Uplink } from './uplink.js';
import { captureFiles } from '../capture/config.js';

export interface TapUpOptions {
  /** 1..32 VMs (default 2). */
  readonly vms?: number;
  readonly profile?: HostProfileName;
  readonly queues?: number;
  readonly mtu?: number;
  /** Map checksum/TSO offloads through the virtio-net header (default true). */
  readonly offloads?: boolean;
  /** Directory for pcap files (guest TX/RX and switch port per captured NIC); none = no capture. */
  readonly captureDir?: string;
  /** With captureDir: also a JSON-lines trace of every NVSP/RNDIS message of each captured NIC. */
  readonly trace?: boolean;
  /** Which NICs to capture, by VM name (vm0, vm1), NIC label (vm0/eth0) or `uplink`; default all. */
  readonly captureNics?: readonly string[];
  /** Namespace/interface prefix and state file (tests use their own). */
  readonly prefix?: string;
  readonly stateFile?: string;
  /** First three octets of the VMs' /24 (default 10.77.0). */
  readonly subnet?: string;
  /**
   * An uplink TAP on the switch with this name (prefixed unless it already has the prefix), in
   * its own namespace `<prefix>uplink` with address .254 of the subnet.
   */
  readonly uplink?: string;
  /**
   * With uplink: its switch port's 802.1Q membership, `trunk:10,20` (tags on the TAP's wire) or
   * `access:N`, or the PortConfig.vlan value itself (checkUplinkVlan). Absent = untagged.
   */
  readonly uplinkVlan?: string | LabVlanPort;
  /** Switch port VLAN of a VM's NIC by VM name (vm0: 10 = access port on VLAN 10); absent = untagged. */
  readonly vmVlans?: { readonly [vm: string]: LabVlanPort };
  /**
   * Busy-poll mode (src/lab/tap/busy-poll.ts): the host and VM loops poll instead of sleeping,
   * yielding the CPU between empty passes. Lower latency, about a core of CPU while idle.
   */
  readonly busyPoll?: boolean;
}

/** One VM as `up` made it. */
export interface TapVm {
  readonly name: string;
  readonly ns: string;
  readonly ifName: string;
  /** Address without the prefix length. */
  readonly ip: string;
  readonly tap: NicTap;
}

export interface TapLab {
  readonly lab: Lab;
  readonly netns: Netns;
  readonly vms: readonly TapVm[];
  readonly uplink: Uplink | null;
  /**
   * Closes the lab (host and VM workers), then every TAP this `up` opened (interface deleted, fd
   * closed; `errors` in the report names any step that failed), then removes the namespaces it
   * made — only those: another run's objects under the same prefix are left alone
   * (`netvsc down` is the sweep of the whole prefix).
   */
  down(): Promise<DownReport>;
  /** Switches busy-poll mode (TapUpOptions.busyPoll) on or off on the host and every VM. */
  setBusyPoll(on: boolean): Promise<void>;
}

export const MAX_UP_VMS = 32;

function checkVms(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_UP_VMS) throw new ConfigError('BAD_CONFIG', `vms: ${String(v)} is not an integer in [1, ${MAX_UP_VMS}]`);
  return v;
}

function checkSubnet(v: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) throw new ConfigError('BAD_CONFIG', `subnet: '${v}' is not three octets like 10.77.0`);
  return v;
}

/** Starts the host and the VMs and attaches every NIC to a TAP in its namespace. */
export async function tapUp(o: TapUpOptions = {}): Promise<TapLab> {
  const count = checkVms(o.vms ?? 2);
  const profile = checkProfile(o.profile);
  const queues = checkQueues('queues', o.queues ?? 1);
  const mtu = checkMtu('mtu', o.mtu ?? 1500);
  const subnet = checkSubnet(o.subnet ?? '10.77.0');
  if (o.uplinkVlan !== undefined && o.uplink === undefined) throw new ConfigError('BAD_CONFIG', '--uplink-vlan needs --uplink NAME');
  const uplinkVlan = o.uplinkVlan !== undefined ? checkUplinkVlan(o.uplinkVlan) : undefined;
  for (const vm of Object.keys(o.vmVlans ?? {})) if (!/^vm(0|[1-9]\d*)$/.test(vm) || Number(vm.slice(2)) >= count) throw new ConfigError('BAD_CONFIG', `vmVlans: no VM '${vm}' (vm0..vm${count - 1})`);
  requireTap();
  const netns = new Netns({ ...(o.prefix ? { prefix: o.prefix } : {}), ...(o.stateFile ? { stateFile: o.stateFile } : {}) });
  const uplinkName = o.uplink !== undefined ? uplinkIfName(netns, o.uplink) : null;
  const lab = await Lab.create({ profile });
  const vms: TapVm[] = [];
  let uplink: Uplink | null = null;
  const made: string[] = [];
  const setBusyPoll = async (on: boolean): Promise<void> => {
    await lab.hostClient.call('setBusyPoll', [on]);
    for (const v of vms) await v.tap.nic.vm.runtime.client.call('setBusyPoll', [on]);
  };
  const down = async (): Promise<DownReport> => {
    // The lab first (no worker may touch a TAP fd after this), then every TAP this run opened
    // (interface deleted, fd closed), then the namespaces. Failures are reported, not dropped.
    const errors: string[] = [];
    const note = (what: string) => (e: unknown) => void errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    await lab.close().catch(note('lab close'));
    for (const v of vms) await v.tap.device.close(v.ns).catch(note(`${v.ifName} close`)); // idempotent
    if (uplink !== null) await uplink.device.close(uplink.ns).catch(note(`${uplink.ifName} close`));
    const report = await netns.removeNamespaces(made);
    return errors.length > 0 ? { ...report, errors } : report;
  };
  try {
    for (let i = 0; i < count; i++) {
      const name = `vm${i}`;
      const captured = o.captureDir && (!o.captureNics || o.captureNics.includes(name) || o.captureNics.includes(`${name}/eth0`));
      const capture = captured ? { capture: { dir: o.captureDir!, trace: o.trace ?? false } } : {};
      const vlan = o.vmVlans?.[name];
      const vm = await lab.addVm({ name, nics: [{ queues, mtu, ...capture, ...(vlan !== undefined ? { vlan } : {}) }] });
      const nic = vm.nics[0]!;
      const ns = netns.name(name);
      const ifName = netns.name(`v${i}${nic.name}`); // nvsc-v0eth0: link names are ≤ 15 bytes
      await netns.createNamespace(ns);
      made.push(ns);
      const ip = `${subnet}.${i + 1}`;
      const tap = await attachNicTap(netns, nic, { ns, ifName, address: `${ip}/24`, ...(o.offloads !== undefined ? { offloads: o.offloads } : {}) });
      vms.push({ name, ns, ifName, ip, tap });
    }
    if (uplinkName !== null) {
      const ifName = uplinkName;
      const ns = netns.name('uplink');
      await netns.createNamespace(ns);
      made.push(ns);
      const f = o.captureDir && (!o.captureNics || o.captureNics.includes('uplink')) ? captureFiles('uplink', { dir: o.captureDir, layers: ['switch-in', 'switch-out'] }, 'uplink', ifName) : null;
      const capture = f ? { ...(f.switchIn ? { ingress: f.switchIn } : {}), ...(f.switchOut ? { egress: f.switchOut } : {}) } : undefined;
      uplink = await attachUplink(lab, netns, { ns, ifName, address: `${subnet}.254/24`, mtu, ...(capture ? { capture } : {}), ...(uplinkVlan !== undefined ? { vlan: uplinkVlan } : {}) });
    }
    if (o.busyPoll) await setBusyPoll(true);
  } catch (e) {
    await down();
    throw e;
  }
  return { lab, netns, vms, uplink, down, setBusyPoll };
}

/** `netvsc down`: removes every namespace and interface with the prefix (idempotent, crash-safe). */
export function tapDown(o: { readonly prefix?: string; readonly stateFile?: string } = {}): Promise<DownReport> {
  return new Netns({ ...(o.prefix ? { prefix: o.prefix } : {}), ...(o.stateFile ? { stateFile: o.stateFile } : {}) }).down();
}
