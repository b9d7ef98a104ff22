/**
 * Main-thread side of a VM NIC on a TAP: opens the TAP with the io layer (offloads as the NIC
 * negotiated them; non-blocking, read by the VM worker itself), moves it into a namespace with the
 * NIC's MAC, MTU and an address, and asks the VM worker to bridge it (tap-bridge.ts).
 */
import { ConfigError } from '../../core/index.js';
import { TapDevice, tapUnavailableReason, TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, type Netns } from '../../io/index.js';
import type { LabNic } from '../lab-vm.js';
import type { TapBridgeCounters } from './tap-bridge.js';

export interface NicTapOptions {
  /** Namespace the TAP goes into (created by the caller through `netns`). */
  readonly ns: string;
  /** Interface name, from netns.name() so teardown finds it. */
  readonly ifName: string;
  /** Address with prefix length, e.g. 10.77.0.1/24. */
  readonly address: string;
  /** Map checksum/TSO offloads through the virtio-net header (default true). */
  readonly offloads?: boolean;
}

/** A NIC's TAP, attached. */
export class NicTap {
  constructor(
    readonly nic: LabNic,
    readonly device: TapDevice,
    readonly ns: string,
    readonly ifName: string,
    readonly address: string,
  ) {}

  /** The bridge's counters (also flushes the VM's capture files). */
  stats(): Promise<TapBridgeCounters> {
    return this.nic.vm.runtime.client.call('tapStats', [this.nic.name]);
  }

  /** Stops the VM reading the TAP, deletes the interface and closes its fd (the VM keeps running). */
  async close(): Promise<void> {
    await this.nic.vm.runtime.client.call('detachTap', [this.nic.name]).catch(() => {}); // the VM may be gone already
    await this.device.close(this.ns);
  }
}

/** Throws ConfigError('UNSUPPORTED', why) when TAP interfaces cannot be made here. */
export function requireTap(): void {
  const why = tapUnavailableReason();
  if (why !== null) throw new ConfigError('UNSUPPORTED', why);
}

/** Opens a TAP for `nic`, puts it in `o.ns` and bridges it to the NIC inside the VM. */
export async function attachNicTap(netns: Netns, nic: LabNic, o: NicTapOptions): Promise<NicTap> {
  requireTap();
  const client = nic.vm.runtime.client;
  const offloads = o.offloads ?? true;
  let tunFlags = 0;
  if (offloads) {
    // Checksums can always be finished here; GSO only when the NIC can hand it to the host as LSO.
    const caps = await client.call('tapOffloads', [nic.name]);
    tunFlags = TUN_F_CSUM | (caps.tso4 ? TUN_F_TSO4 : 0) | (caps.tso6 ? TUN_F_TSO6 : 0);
  }
  await netns.recordLink(o.ifName);
  // Inline RX: the VM worker reads the TAP itself (docs/tap.md "How a frame travels").
  const device = TapDevice.open({ name: o.ifName, offloads: tunFlags, reader: 'inline' });
  try {
    await netns.moveLink(o.ifName, o.ns);
    await netns.configureLink(o.ns, o.ifName, { mac: nic.mac, address: o.address, mtu: nic.info.mtu });
    await client.call('attachTap', [nic.name, device.shared, { offloads }]);
  } catch (e) {
    await device.close(o.ns).catch(() => {});
    throw e;
  }
  return new NicTap(nic, device, o.ns, o.ifName, o.address);
}
