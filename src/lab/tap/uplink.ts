/**
 * Main-thread side of the switch's uplink TAP (`netvsc up --uplink NAME`): opens a TAP we create
 * (never an existing interface), its RX worker ringing the host's doorbell, moves it into its own
 * namespace with an address on the VMs' subnet, and asks the host worker to put it on the switch
 * (uplink-port.ts). From that namespace the host side can reach every VM.
 */
import { ConfigError } from '../../core/index.js';
import { TapDevice, type Netns } from '../../io/index.js';
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

export async function attachUplink(lab: Lab, netns: Netns, o: UplinkOptions): Promise<Uplink> {
  requireTap();
  const wake = await lab.hostClient.call('tapWake', []);
  await netns.recordLink(o.ifName);
  const device = TapDevice.open({ name: o.ifName, offloads: 0, wake });
  try {
    await netns.moveLink(o.ifName, o.ns);
    await netns.configureLink(o.ns, o.ifName, { address: o.address, mtu: o.mtu });
    await lab.hostClient.call('attachUplink', [o.ifName, device.shared, o.capture]);
  } catch (e) {
    await device.close(o.ns).catch(() => {});
    throw e;
  }
  return { ns: o.ns, ifName: o.ifName, ip: o.address.replace(/\/\d+$/, ''), device };
}
