/**
 * Everything the host runs, in its one worker (or in the main thread in single-thread mode): the
 * emulated Hyper-V host (every NIC's NetVSP device and the virtual switch) and one VmbusHost per
 * VM, all on one EventLoop that waits on the host doorbell every VM rings. Its public methods are
 * the host's control calls (rpc.ts); none carries a packet.
 */
import type { MessagePort } from 'node:worker_threads';
import { ConfigError } from '../core/index.js';
import { HypervHost, type HostNic, type HostProfileName, type HostStats, type HostVfEvent, type HostVfOptions, type NicStats, type VfLoss } from '../host/index.js';
import { Doorbell, EventLoop, PortLink, VmbusHost, type LoopWakeStats, type MessageLink, type VmShared } from '../vmbus/index.js';
import { auditNics, reclaimVm, type NicAudit, type VmReclaim } from './host-faults.js';
import type { LabVlanPort, NicConfig } from './config.js';
import { HostVfs } from './vf/host-vfs.js';
import type { SharedVfSpec } from './vf/shared-vf.js';
import { PortCapture, type PortCapturePaths } from './capture/port-capture.js';
import { MessageTrace } from './capture/message-trace.js';
import { TapPort, type TapShared, type TapWake } from '../io/index.js';
import { UplinkPort, type UplinkCounters } from './tap/uplink-port.js';
import { switchBusyPoll, type BusyPoll, type BusyPollCounts } from './tap/busy-poll.js';

/** The host's view of a NIC plus its recent VF events (docs/vf.md). */
export type LabHostNicStats = NicStats & {
  readonly vfEvents: readonly HostVfEvent[];
  /** The NIC's virtual switch port counters (host/vswitch PORT_COUNTER_NAMES): kept across re-attaches. */
  readonly port: Record<string, number>;
};

interface HostVm {
  readonly bus: VmbusHost;
  readonly link: MessageLink;
  readonly nics: Map<string, HostNic>;
  /** Switch-port captures and host-side message traces by NIC name (issue 7). */
  readonly captures: Map<string, { readonly port: PortCapture | null; readonly trace: MessageTrace | null }>;
}

export class HostRuntime {
  readonly loop: EventLoop;
  readonly host: HypervHost;
  private readonly vms = new Map<string, HostVm>();
  /** The switch's uplink TAP (src/lab/tap/uplink-port.ts), its capture, or none. */
  private uplink: { readonly port: UplinkPort; readonly capture: PortCapture | null } | null = null;
  /** Fault reports (host-faults.ts): VMs reclaimed after they died; each NIC's config for a re-offer. */
  private readonly reclaimed: VmReclaim[] = [];
  private readonly nicConfigs = new Map<string, NicConfig>();
  private readonly vfs = new HostVfs();
  /** Each VM's doorbell: a VF's hot-plug, link, eject and received frames wake the VM's loop. */
  private readonly vmDoorbells = new Map<string, Doorbell>();
  private busyPoll: BusyPoll | null = null;

  constructor(
    private readonly hostDoorbell: SharedArrayBuffer,
    profile: HostProfileName,
  ) {
    this.loop = new EventLoop(Doorbell.host(hostDoorbell));
    this.host = new HypervHost({ profile });
    this.loop.add(this.host);
  }

  /** Connects a VM: its memory and signal page, and its end of the VMBus message link. */
  addVm(vm: string, shared: VmShared, link: MessageLink | MessagePort): void {
    if (this.vms.has(vm)) throw new ConfigError('BAD_CONFIG', `vm: '${vm}' is already on the host`);
    const l = 'send' in link ? link : new PortLink(link);
    const bus = new VmbusHost({ memory: shared.memory, signals: shared.signals, link: l, loop: this.loop });
    this.host.attachVm(vm, bus);
    this.vmDoorbells.set(vm, Doorbell.guest(shared.signals));
    // A MessagePort closes when the VM's worker ends, however it ends: the host's cue that the
    // partition is gone (the hypervisor knows), so it reclaims the VM's NICs at once.
    if (!('send' in link)) link.once('close', () => this.vmLost(vm, l));
    this.vms.set(vm, { bus, link: l, nics: new Map(), captures: new Map() });
  }

  /** Offers a synthetic NIC to the VM and plugs it into the switch. */
  addNic(vm: string, nic: NicConfig): void {
    const v = this.vm(vm);
    if (v.nics.has(nic.name)) throw new ConfigError('BAD_CONFIG', `nic: VM ${vm} already has a NIC '${nic.name}'`);
    const hostNic = this.host.addNic(vm, { mac: nic.mac, instanceGuid: nic.instanceGuid, name: nic.name, port: { macAddressSpoofing: nic.macAddressSpoofing, ...(nic.vlan !== undefined ? { vlan: nic.vlan } : {}) } });
    v.nics.set(nic.name, hostNic);
    this.nicConfigs.set(`${vm}/${nic.name}`, nic);
    this.vfs.watch(v.nics.get(nic.name)!);
    const c = nic.capture;
    const port = c?.switchIn || c?.switchOut ? new PortCapture({ ...(c.switchIn ? { ingress: c.switchIn } : {}), ...(c.switchOut ? { egress: c.switchOut } : {}) }) : null;
    const trace = c?.hostTrace ? new MessageTrace(c.hostTrace, `${vm}/${nic.name}`, 'host') : null;
    if (port || trace) v.captures.set(nic.name, { port, trace });
    if (port) hostNic.port.setCapture(port);
    if (trace) hostNic.coordinator.observer = trace;
  }

  nicStats(vm: string, nic: string): LabHostNicStats {
    const n = this.nic(vm, nic);
    return { ...n.stats(), vfEvents: this.vfs.eventsOf(n), port: n.port.counters.snapshot() };
  }

  /** Assigns an SR-IOV VF (its rings: `spec`) to the NIC; it is shown after the delay in `o`. */
  addVf(vm: string, nic: string, spec: SharedVfSpec, o: HostVfOptions): void {
    this.vfs.add(this.nic(vm, nic), spec, this.vmDoorbells.get(vm)!, o);
  }

  /** Takes the NIC's VF away: planned (switch back, eject, ack) or surprise; returns a surprise's in-flight loss. */
  removeVf(vm: string, nic: string, surprise: boolean): VfLoss | null {
    return this.vfs.remove(this.nic(vm, nic), surprise);
  }

  /** The VF port's carrier (down moves the data path back to synthetic at once). */
  setVfLink(vm: string, nic: string, up: boolean): void {
    this.nic(vm, nic).vf.setLink(up);
  }

  /** Media connect / disconnect to the guest. */
  setLink(vm: string, nic: string, up: boolean): void {
    this.nic(vm, nic).setLink(up);
  }

  stats(): HostStats {
    return this.host.stats();
  }

  /** Where a TAP's RX worker rings the host loop awake (the uplink). */
  tapWake(): TapWake {
    return { sab: this.hostDoorbell, index: 0 };
  }

  /** Busy-poll mode for `up --busy-poll` (src/lab/tap/busy-poll.ts): the host loop never sleeps; switching off returns what it did. */
  setBusyPoll(on: boolean): BusyPollCounts | null {
    const was = this.busyPoll;
    this.busyPoll = switchBusyPoll(this.loop, was, on);
    return was && !on ? { yields: was.yields, breaks: was.breaks } : null;
  }

  /** Puts an uplink TAP on the switch (one per host); `capture` records its port like a NIC's; `vlan` is its 802.1Q membership. */
  attachUplink(name: string, tap: TapShared, capture?: PortCapturePaths, vlan?: LabVlanPort): void {
    if (this.uplink) throw new ConfigError('BAD_CONFIG', `uplink: the switch already has one (${this.uplink.port.name})`);
    const port = new UplinkPort(name, new TapPort(tap));
    port.handle = this.host.vswitch.addPort(port, vlan !== undefined ? { vlan } : {});
    const c = capture && (capture.ingress || capture.egress) ? new PortCapture(capture) : null;
    if (c) port.handle.setCapture(c);
    this.uplink = { port, capture: c };
    this.loop.add(port);
  }

  uplinkStats(): UplinkCounters | null {
    return this.uplink ? { ...this.uplink.port.counters } : null;
  }

  /** Writes the switch-port captures' frames and the host traces; returns frames and trace records per NIC. */
  flushCaptures(): Record<string, { ingress: number; egress: number; traced?: number; traceDropped?: number }> {
    const out: Record<string, { ingress: number; egress: number; traced?: number; traceDropped?: number }> = {};
    for (const [vm, v] of this.vms) {
      for (const [nic, c] of v.captures) {
        c.port?.flush();
        const t = c.trace?.flush();
        out[`${vm}/${nic}`] = { ...(c.port?.counts() ?? { ingress: 0, egress: 0 }), ...(t ? { traced: t.records, traceDropped: t.dropped } : {}) };
      }
    }
    if (this.uplink?.capture) {
      this.uplink.capture.flush();
      out[this.uplink.port.name] = this.uplink.capture.counts();
    }
    return out;
  }

  /** Rescinds the VM's NICs and drops its bus (the VM worker is gone or going). */
  removeVm(vm: string): void {
    const v = this.vm(vm);
    for (const [nic, c] of v.captures) {
      const n = v.nics.get(nic);
      if (n) {
        n.port.setCapture(null);
        n.coordinator.observer = null;
      }
      c.port?.close();
      c.trace?.close();
    }
    for (const n of v.nics.values()) this.dropNic(n);
    v.link.close();
    this.vmDoorbells.delete(vm);
    this.vms.delete(vm);
    this.host.detachVm(vm); // forget its bus too, so the name can be attached again
  }

  /**
   * The VM died (its link closed; in single-thread mode the lab says so): reclaim its NICs as
   * removeVm does and record what was freed. Returns null when it was already removed.
   */
  vmLost(vm: string, link?: MessageLink): VmReclaim | null {
    const v = this.vms.get(vm);
    if (!v || (link !== undefined && v.link !== link)) return null;
    const r = reclaimVm(vm, [...v.nics.values()], () => this.removeVm(vm));
    this.reclaimed.push(r);
    return r;
  }

  /** Every VM the host reclaimed after it died. */
  reclaims(): VmReclaim[] {
    return [...this.reclaimed];
  }

  /** Every NIC's receive-buffer audit (each section free or on exactly one packet). */
  audit(): NicAudit[] {
    return auditNics(this.host.allNics);
  }

  /** The host loop's sleep/wake counters (the lost-signal fault test). */
  wakeStats(): LoopWakeStats {
    return this.loop.wakeStats();
  }

  /**
   * Fault injection (issue 9): rescinds a NIC and offers it again (same MAC, instance GUID, name),
   * as a host servicing its NIC mid-traffic. The guest must re-probe the new offer.
   */
  reofferNic(vm: string, nic: string): void {
    const cfg = this.nicConfigs.get(`${vm}/${nic}`);
    const old = this.nic(vm, nic);
    this.dropNic(old);
    this.vm(vm).nics.delete(nic);
    this.addNic(vm, cfg!);
  }

  async close(): Promise<void> {
    for (const vm of [...this.vms.keys()]) this.removeVm(vm);
    if (this.uplink) {
      this.loop.remove(this.uplink.port);
      this.uplink.port.handle?.remove();
      this.uplink.capture?.close();
      this.uplink = null;
    }
    await this.loop.stop();
  }

  /** Takes a NIC off the host; its VF goes with it (as a surprise: nobody is left to ack an eject). */
  private dropNic(n: HostNic): void {
    if (n.vf.state.kind !== 'none') n.vf.remove(false);
    this.vfs.forget(n);
    this.host.removeNic(n);
  }

  private vm(name: string): HostVm {
    const v = this.vms.get(name);
    if (!v) throw new ConfigError('BAD_CONFIG', `vm: no VM '${name}' on the host`);
    return v;
  }

  private nic(vm: string, nic: string): HostNic {
    const n = this.vm(vm).nics.get(nic);
    if (!n) throw new ConfigError('BAD_CONFIG', `nic: VM ${vm} has no NIC '${nic}'`);
    return n;
  }
}
