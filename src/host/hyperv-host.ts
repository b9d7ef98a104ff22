/**
 * The emulated Hyper-V host: one profile, one virtual switch, and per VM the VmbusHost its NICs
 * are offered on. It is a Pollable: put it on the host worker's EventLoop next to the channels
 * so receive bursts and deferred completions go out. Everything per NIC is isolated: each NIC
 * has its own buffers, sections, counters and state, so one hostile guest affects only itself.
 */
import { ConfigError, systemClock, type Clock } from '../core/index.js';
import type { Pollable, VmbusHost } from '../vmbus/index.js';
import { HostNic, type NicOptions, type NicStats } from './host-nic.js';
import { hostProfile, type HostProfile, type HostProfileName } from './profiles.js';
import { VSwitch } from './vswitch/vswitch.js';

export interface HypervHostOptions {
  readonly profile: HostProfile | HostProfileName;
  readonly clock?: Clock;
  /** Switch MAC ageing; 0 = never forget. */
  readonly ageingMs?: number;
}

export interface HostStats {
  readonly profile: string;
  readonly nics: readonly NicStats[];
  readonly switchPorts: Record<string, Record<string, number>>;
}

export class HypervHost implements Pollable {
  readonly profile: HostProfile;
  readonly vswitch: VSwitch;
  readonly clock: Clock;
  private readonly vms = new Map<string, VmbusHost>();
  private readonly nics: HostNic[] = [];

  constructor(o: HypervHostOptions) {
    this.profile = typeof o.profile === 'string' ? hostProfile(o.profile) : o.profile;
    this.clock = o.clock ?? systemClock;
    this.vswitch = new VSwitch({ clock: this.clock, ...(o.ageingMs !== undefined ? { ageingMs: o.ageingMs } : {}) });
  }

  /** Registers a VM's bus (its VmbusHost end); NICs added for it are offered there. */
  attachVm(vmId: string, bus: VmbusHost): void {
    if (this.vms.has(vmId)) throw new ConfigError('BAD_CONFIG', `VM ${vmId} is already attached`);
    this.vms.set(vmId, bus);
  }

  /** Offers a synthetic NIC to the VM and plugs it into the switch. */
  addNic(vmId: string, o: NicOptions): HostNic {
    const bus = this.vms.get(vmId);
    if (!bus) throw new ConfigError('BAD_CONFIG', `no VM ${vmId}: call attachVm first`);
    const nic = new HostNic(vmId, this.profile, bus, this.vswitch, o, this.clock);
    this.nics.push(nic);
    return nic;
  }

  removeNic(nic: HostNic): void {
    const i = this.nics.indexOf(nic);
    if (i < 0) return;
    this.nics.splice(i, 1);
    nic.remove();
  }

  /**
   * Takes a VM off the host (it was removed, or its worker died): removes its NICs (rescind, unmap
   * the buffers, leave the switch) and forgets its bus, so the name can be attached again.
   */
  detachVm(vmId: string): void {
    for (const nic of this.nics.filter((n) => n.vmId === vmId)) this.removeNic(nic);
    this.vms.delete(vmId);
  }

  get allNics(): readonly HostNic[] {
    return this.nics;
  }

  /** Sends receive bursts, control replies and deferred completions of every NIC. */
  poll(): number {
    let work = 0;
    for (let i = 0; i < this.nics.length; i++) work += this.nics[i]!.poll();
    return work;
  }

  idle(): number {
    let n = 0;
    for (let i = 0; i < this.nics.length; i++) n += this.nics[i]!.coordinator.backlog > 0 ? this.nics[i]!.poll() : 0;
    return n;
  }

  stats(): HostStats {
    return { profile: this.profile.name, nics: this.nics.map((n) => n.stats()), switchPorts: this.vswitch.portStats() };
  }
}
