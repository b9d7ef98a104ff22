/**
 * The VF's port on the virtual switch. It answers to the synthetic NIC's MAC and packet filter
 * (settings live on the synthetic NIC only, §6.8 "pass-through of settings") and hands frames to
 * the VF's own receive queues. It is standby — receives nothing — until the guest switches the
 * data path to the VF (§3.10).
 */
import type { PortFrameMeta, SwitchPort } from '../vswitch/port.js';
import type { HostVfCounters } from './counters.js';
import type { VfHardware } from './vf-hardware.js';

/** What the port borrows from its synthetic NIC. */
export interface VfPortOwner {
  readonly name: string;
  readonly macNumber: number;
  readonly packetFilter: number;
}

export class VfSwitchPort implements SwitchPort {
  /** The device behind the port; null while no VF is assigned. */
  hw: VfHardware | null = null;

  private readonly sFrames: number;
  private readonly sBytes: number;
  private readonly sDropped: number;

  constructor(
    private readonly owner: VfPortOwner,
    private readonly counters: HostVfCounters,
  ) {
    this.sFrames = counters.slot('vf_frames_to_guest');
    this.sBytes = counters.slot('vf_bytes_to_guest');
    this.sDropped = counters.slot('vf_frames_to_guest_dropped');
  }

  get name(): string {
    return `${this.owner.name}/vf`;
  }

  get macNumber(): number {
    return this.owner.macNumber;
  }

  get packetFilter(): number {
    return this.owner.packetFilter;
  }

  deliver(bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta): boolean {
    const hw = this.hw;
    // The 802.1Q tag the switch took off travels in the VF's RX descriptor (VLAN stripping, §5.5).
    if (hw === null || !hw.plugged || !hw.deliverRx(bytes, off, len, meta.hasVlan ? meta.vlanTci : -1)) {
      this.counters.add(this.sDropped);
      return false;
    }
    this.counters.add(this.sFrames);
    this.counters.add(this.sBytes, len);
    return true;
  }
}
