/**
 * Main-thread side of the switch's uplink TAP (`netvsc up --uplink NAME`): opens a TAP we create
 * (never an existing interface), its RX worker ringing the host's doorbell, moves it into its own
 * namespace with an address on the VMs' subnet, and asks the host worker to put it on the switch
 * (uplink-port.ts). From that namespace the host side can reach every VM.
 */
import { ConfigError } from '../../core/index.js';
import { TapDevice, type Netns } from '../../io/index.js';
import type { LabVlanPort } from '../config.js';
import type { Lab } from '../topology.js';
import type { PortCapturePaths } from '../capture/port-capture.js';
import { requireTap } from './attach.js';

export interface UplinkOptions {
  /** Namespace the TAP goes into (created by the caller through `netns`). */
  readonly ns: string;
  /** Interface name, from netns.name() so teardown finds it. */
  readonly ifName: string;
  /** Address with prefix length, e.g. 10.77.0.254/24. */
  readonly address: string;
  readonly mtu: number;
  readonly capture?: PortCapturePaths;
  /** The uplink port's 802.1Q membership (PortConfig.vlan); absent = the untagged network. */
  readonly vlan?: LabVlanPort;
}

export interface Uplink {
  readonly ns: string;
  readonly ifName: string;
  /** Address without the prefix length. */
  readonly ip: string;
  readonly device: TapDevice;
}

/** The name `--uplink NAME` gives the interface: NAME itself when it has our prefix, else prefixed. */
export function uplinkIfName(netns: Netns, name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new ConfigError('BAD_CONFIG', `--uplink: '${name}' is not an interface name`);
  return name.startsWith(netns.prefix) ? name : netns.name(name);
}

/**
 * `--uplink-vlan` / tapUp's `uplinkVlan`: `trunk:10,20` (the uplink carries those VLANs tagged on
 * its wire, untagged frames on the native VLAN 0) or `access:N` (untagged on the wire, the switch
 * puts them on VLAN N; 0 = the untagged network), or the same already as a PortConfig.vlan value.
 * Anything else is a BAD_CONFIG ConfigError naming what is wrong (and `flag`, the option it came
 * from: `netvsc up --nic-vlan` reads a VM NIC's port the same way).
 */
export function checkUplinkVlan(v: string | LabVlanPort, flag = '--uplink-vlan'): LabVlanPort {
  const bad = (why: string): never => {
    throw new ConfigError('BAD_CONFIG', `${flag}: ${why} (want trunk:ID[,ID…] or access:ID)`);
  };
  const id = (x: unknown, min: number): number => {
    const n = typeof x === 'string' && /^\d{1,4}$/.test(x.trim()) ? Number(x.trim()) : x;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > 4094) bad(`'${String(x)}' is not a VLAN id ${min}..4094`);
    return n as number;
  };
  if (typeof v === 'string') {
    const m = /^(trunk|access):(.*)$/.exec(v.trim());
    if (!m) return bad(`'${v}' is neither trunk:… nor access:…`);
    if (m[1] === 'access') return id(m[2], 0);
    const ids = m[2]!.split(',');
    return { trunk: ids.map((x) => id(x, 1)) };
  }
  if (typeof v === 'number') return id(v, 0);
  const t = typeof v === 'object' && v !== null ? (v as { trunk?: unknown }).trunk : undefined;
  if (!Array.isArray(t) || t.length === 0) return bad('a trunk needs at least one VLAN id');
  return { trunk: t.map((x) => id(x, 1)) };
}

export async function attachUplink(lab: Lab, netns: Netns, o: UplinkOptions): Promise<Uplink> {
  requireTap();
  const wake = await lab.hostClient.call('tapWake', []);
  await netns.recordLink(o.ifName);
  const device = TapDevice.open({ name: o.ifName, offloads: 0, wake });
  try {
    await netns.moveLink(o.ifName, o.ns);
    await netns.configureLink(o.ns, o.ifName, { address: o.address, mtu: o.mtu });
    await lab.hostClient.call('attachUplink', [o.ifName, device.shared, o.capture, o.vlan]);
  } catch (e) {
    await device.close(o.ns).catch(() => {});
    throw e;
  }
  return { ns: o.ns, ifName: o.ifName, ip: o.address.replace(/\/\d+$/, ''), device };
}
