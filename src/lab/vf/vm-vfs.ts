/**
 * The VFs of one VM, guest side, in its worker (or thread): each is a VfGuestEnd polled on the
 * VM's EventLoop, and the VM's netdev notifier chain — every netvsc device of the VM hears every
 * VF's register / change / going-down / unregister (protocol.md §6.8: matching is netvsc's job,
 * by serial and MAC). A VF whose device is gone (unregistered) leaves the loop.
 */
import type { VfNetdev, VfNetdevEvent } from '../../guest/index.js';
import type { Doorbell, EventLoop } from '../../vmbus/index.js';
import { VfGuestEnd, type VfDeviceStats } from './guest-end.js';
import type { SharedVfSpec } from './shared-vf.js';

/** Who hears the VM's VF events (a netvsc device, through the lab's driver seam). */
export interface VfListener {
  vfEvent(vf: VfNetdev, ev: VfNetdevEvent): void;
}

export class VmVfs {
  private readonly devices: VfGuestEnd[] = [];

  constructor(
    private readonly loop: EventLoop,
    /** The host's doorbell: a frame queued on a VF, or an eject ack, wakes the host's loop. */
    private readonly hostDoorbell: Doorbell,
    private readonly listeners: () => Iterable<VfListener>,
  ) {}

  /** A VF assigned to this VM: its device end starts watching the control words (hot-add comes from the host). */
  plug(spec: SharedVfSpec): void {
    if (this.devices.some((d) => d.serial === spec.serial)) return;
    const vf = new VfGuestEnd(spec, `enP${spec.serial}s1`, (d, ev) => this.notify(d, ev), () => this.hostDoorbell.ring());
    this.devices.push(vf);
    this.loop.add(vf);
  }

  /** Forgets a VF the host never showed (its assignment failed). */
  unplug(serial: number): void {
    const vf = this.devices.find((d) => d.serial === serial);
    if (vf && !vf.present) this.drop(vf);
  }

  /** §6.8: a netvsc device scans the VFs already present when its initialisation ends. */
  announceTo(l: VfListener): void {
    for (const vf of this.devices) if (vf.running) l.vfEvent(vf, 'register');
  }

  /** The VF device's own counters (its `ethtool -S`), by serial; null when it is not in the VM. */
  deviceStats(serial: number | null): (VfDeviceStats & { readonly name: string }) | null {
    const vf = serial === null ? undefined : this.devices.find((d) => d.serial === serial);
    return vf ? { name: vf.name, ...vf.stats() } : null;
  }

  close(): void {
    for (const vf of [...this.devices]) this.drop(vf);
  }

  private notify(vf: VfGuestEnd, ev: VfNetdevEvent): void {
    for (const l of this.listeners()) l.vfEvent(vf, ev);
    if (ev === 'unregister') this.drop(vf);
  }

  private drop(vf: VfGuestEnd): void {
    this.loop.remove(vf);
    const i = this.devices.indexOf(vf);
    if (i >= 0) this.devices.splice(i, 1);
  }
}
