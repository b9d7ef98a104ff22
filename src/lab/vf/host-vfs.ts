/**
 * The VFs of the host worker's NICs: assigns an emulated VF (its host end over the shared rings)
 * to a NIC's HostVf, wakes the VM's loop on every change the guest must see, and keeps the last
 * events per NIC so `nic.stats()` and `netvsc vf` can show what happened.
 */
import type { HostNic, HostVfEvent, HostVfOptions, VfLoss } from '../../host/index.js';
import type { Doorbell } from '../../vmbus/index.js';
import { VfHostEnd } from './host-end.js';
import type { SharedVfSpec } from './shared-vf.js';

const EVENT_HISTORY = 64;

export class HostVfs {
  private readonly events = new Map<HostNic, HostVfEvent[]>();

  /** Starts recording a NIC's VF events. */
  watch(nic: HostNic): void {
    const list: HostVfEvent[] = [];
    this.events.set(nic, list);
    nic.vf.onEvent = (e) => {
      if (list.length >= EVENT_HISTORY) list.shift();
      list.push(e);
    };
  }

  forget(nic: HostNic): void {
    this.events.delete(nic);
  }

  /** Assigns the VF; the host shows it `showDelayMs` after the guest negotiated SR-IOV. */
  add(nic: HostNic, spec: SharedVfSpec, vmDoorbell: Doorbell, o: HostVfOptions): void {
    nic.vf.add(new VfHostEnd(spec, () => vmDoorbell.ring()), o);
  }

  /** Planned (switch back, eject, wait for the ack) or surprise (gone now, in-flight loss returned). */
  remove(nic: HostNic, surprise: boolean): VfLoss | null {
    return nic.vf.remove(!surprise);
  }

  /** Oldest first. */
  eventsOf(nic: HostNic): readonly HostVfEvent[] {
    return [...(this.events.get(nic) ?? [])];
  }
}
