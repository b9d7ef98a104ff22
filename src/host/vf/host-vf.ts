/**
 * The VF of one synthetic NIC, host side (protocol.md §3.10, §6.8; peers.md §1.4): runs the
 * state machine of vf-state.ts and does what each transition means — the show delay on the
 * injected Clock, SEND_VF_ASSOCIATION on the primary channel, steering the MAC between the
 * synthetic port and the VF port on the switch, draining the VF's transmit queues, planned
 * removal (switch back, association {0}, eject request, wait for the ack) and surprise removal
 * (whatever was queued on the VF is lost and counted).
 */
import { ConfigError, Counters, isNetvscError, type Clock } from '../../core/index.js';
import { emitNvsp, NVSP_MESSAGE_SIZE, NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION } from '../../wire/index.js';
import { PortFrameMeta } from '../vswitch/port.js';
import type { SwitchPortHandle, VSwitch } from '../vswitch/vswitch.js';
import { HOST_VF_COUNTER_NAMES, type HostVfCounters } from './counters.js';
import type { VfFrameHandler, VfHardware, VfLoss } from './vf-hardware.js';
import { VfSwitchPort, type VfPortOwner } from './vf-port.js';
import * as S from './vf-state.js';

export interface HostVfOptions {
  /** Delay between the guest becoming able to take a VF and the VF being shown (Hyper-V: 1000 ms). */
  readonly showDelayMs?: number;
  /** How long a planned removal waits for the guest's eject ack before surprise-removing (5000 ms). */
  readonly ejectTimeoutMs?: number;
}

/** What the VF controller needs from its synthetic NIC. */
export interface VfNicLink extends VfPortOwner {
  readonly port: SwitchPortHandle;
  readonly vswitch: VSwitch;
  readonly clock: Clock;
  /** NVSP ≥ 4, the sriov capability bit in NDIS config (§3.5) and a receive buffer: the guest can take a VF. */
  sriovNegotiated(): boolean;
  /** Writes an in-band NVSP message on the primary channel; false if the ring is full or closed. */
  sendInband(bytes: Uint8Array, len: number): boolean;
}

/** Something a user can see happen (`netvsc vf`, logs). */
export interface HostVfEvent {
  readonly atMs: number;
  readonly what: 'added' | 'shown' | 'switched' | 'switchedBack' | 'removing' | 'removed' | 'unexpected';
  readonly state: S.VfStateKind;
  readonly detail: string;
}

export const HOST_VF_DEFAULTS = { showDelayMs: 1000, ejectTimeoutMs: 5000 } as const;
const TX_BUDGET = 256;

export class HostVf {
  state: S.HostVfState = { kind: 'none' };
  readonly counters: HostVfCounters = new Counters(HOST_VF_COUNTER_NAMES);
  /** Last illegal event, for `netvsc show`. */
  lastError: Error | null = null;
  onEvent: (e: HostVfEvent) => void = () => {};
  private hw: VfHardware | null = null;
  private vfHandle: SwitchPortHandle | null = null;
  private readonly port: VfSwitchPort;
  private showDelayMs: number = HOST_VF_DEFAULTS.showDelayMs;
  private ejectTimeoutMs: number = HOST_VF_DEFAULTS.ejectTimeoutMs;
  private cancelShow: (() => void) | null = null;
  private cancelEject: (() => void) | null = null;
  private pendingAssoc: { readonly allocated: number; readonly serial: number } | null = null;
  private readonly scratch = new Uint8Array(NVSP_MESSAGE_SIZE);
  private readonly scratchDv = new DataView(this.scratch.buffer);
  private readonly meta = new PortFrameMeta();
  private readonly sFromGuest: number;
  private readonly sFromGuestBytes: number;
  /** Bound once: the per-frame TX callback allocates nothing. */
  private readonly forwardTx: VfFrameHandler;

  constructor(private readonly nic: VfNicLink) {
    this.port = new VfSwitchPort(nic, this.counters);
    this.sFromGuest = this.counters.slot('vf_frames_from_guest');
    this.sFromGuestBytes = this.counters.slot('vf_bytes_from_guest');
    this.forwardTx = (b, off, len, vlanTci) => {
      this.counters.add(this.sFromGuest);
      this.counters.add(this.sFromGuestBytes, len);
      this.meta.clear();
      // The tag the VF inserted enters the switch as the synthetic path's VLAN PPI does: the
      // port's VLAN rules (the VF port has the synthetic port's) then apply alike.
      if (vlanTci >= 0) {
        this.meta.hasVlan = true;
        this.meta.vlanTci = vlanTci;
      }
      this.vfHandle?.forward(b, off, len, this.meta);
    };
  }

  /** The assigned device, if any. */
  get hardware(): VfHardware | null {
    return this.hw;
  }

  /** Assigns a VF to the NIC; it is shown showDelayMs after the guest can take it. */
  add(hw: VfHardware, o: HostVfOptions = {}): void {
    if (this.hw !== null || this.state.kind !== 'none') throw new ConfigError('BAD_CONFIG', `${this.nic.name} already has a VF (${this.state.kind})`);
    if (!Number.isInteger(hw.serial) || hw.serial < 0 || hw.serial > 0xffffffff) throw new ConfigError('BAD_CONFIG', `VF serial ${hw.serial} is not a u32`);
    this.showDelayMs = o.showDelayMs ?? HOST_VF_DEFAULTS.showDelayMs;
    this.ejectTimeoutMs = o.ejectTimeoutMs ?? HOST_VF_DEFAULTS.ejectTimeoutMs;
    this.state = S.onVfAdded(this.state, hw.serial, this.guestCanTakeVf());
    this.hw = hw;
    this.port.hw = hw;
    // The VF joins the same VLANs as the synthetic port it stands in for (issue 5 item 7).
    this.vfHandle = this.nic.vswitch.addPort(this.port, this.nic.port.config, { standby: true });
    this.counters.inc('vf_added');
    this.emit('added', `serial ${hw.serial}`);
    if (this.state.kind === 'available') this.startShowDelay();
  }

  /**
   * Removes the VF. Planned: the path goes back to synthetic first (host-initiated), then
   * association {0} and an eject request; the device leaves when the guest acks (or, after
   * ejectTimeoutMs, as a surprise removal). Surprise: the device is gone now; what was queued on it
   * is lost, counted and returned.
   */
  remove(planned: boolean): VfLoss | null {
    const hw = this.hw;
    if (hw === null || this.state.kind === 'none') throw new ConfigError('BAD_CONFIG', `${this.nic.name} has no VF to remove`);
    if (this.state.kind === 'unavailable') {
      if (planned) throw new ConfigError('BAD_CONFIG', `${this.nic.name}: the VF is already being removed`);
      return this.finishRemoval(true); // a surprise during a planned removal: the device is gone now
    }
    this.stopShowDelay();
    const from = this.state.kind;
    if (from === 'switched' || from === 'switchPending') this.steerToSynthetic();
    this.state = S.onRemoveStarted(this.state, planned);
    this.counters.inc(planned ? 'vf_planned_removals' : 'vf_surprise_removals');
    if (from !== 'initializing' && from !== 'available') this.queueAssociation(0, hw.serial);
    this.emit('removing', planned ? 'planned' : 'surprise');
    if (planned && hw.plugged) {
      hw.requestEject();
      this.cancelEject = this.nic.clock.after(this.ejectTimeoutMs, () => {
        this.cancelEject = null;
        if (this.state.kind !== 'unavailable' || this.hw !== hw) return;
        this.counters.inc('vf_eject_timeouts');
        this.finishRemoval(true);
      });
      return null;
    }
    return this.finishRemoval(!planned);
  }

  /** The VF port's carrier. Going down moves the MAC back to synthetic at once (host-initiated). */
  setLink(up: boolean): void {
    const hw = this.hw;
    if (hw === null) throw new ConfigError('BAD_CONFIG', `${this.nic.name} has no VF`);
    if (!up && this.state.kind === 'switched') {
      this.steerToSynthetic();
      this.state = S.onHostSwitchBack(this.state);
      this.emit('switchedBack', 'VF link down');
    }
    hw.setLink(up);
  }

  /**
   * The guest's SWITCH_DATA_PATH (§3.10), from the coordinator, which completes it (empty) after
   * this returns whatever happened: an illegal request is counted, never thrown at the channel.
   */
  guestSwitch(toVf: boolean): void {
    let next: S.HostVfState;
    try {
      next = S.onGuestSwitch(this.state, toVf);
    } catch (e) {
      return this.illegal(e);
    }
    if (next === this.state) return void this.counters.inc('vf_switch_noop');
    if (toVf && (this.hw === null || !this.hw.linkUp)) return void this.counters.inc('vf_switch_refused');
    this.state = next;
    if (toVf) {
      this.vfHandle!.steerHere(this.nic.macNumber, this.nic.port);
      this.counters.inc('vf_switch_to_vf');
    } else {
      this.steerToSynthetic();
      this.counters.inc('vf_switch_to_synthetic');
    }
    this.state = S.onSwitchApplied(this.state);
    this.emit('switched', toVf ? 'to VF' : 'to synthetic');
  }

  /** Every frame the guest queued on the VF goes into the switch (before any later synthetic frame: order). */
  drainTx(): number {
    const hw = this.hw;
    if (hw === null) return 0;
    let n = 0;
    for (let k; (k = hw.pollTx(this.forwardTx, TX_BUDGET)) > 0; ) n += k;
    return n;
  }

  /** Host loop work: association retries, guest SR-IOV/reset observation, eject acks, VF transmit. */
  poll(): number {
    if (this.hw === null && this.pendingAssoc === null) return 0;
    let work = 0;
    if (this.pendingAssoc !== null && this.sendAssociation(this.pendingAssoc.allocated, this.pendingAssoc.serial)) {
      this.pendingAssoc = null;
      work++;
    }
    this.observeGuest();
    if (this.hw !== null) work += this.hw.pollTx(this.forwardTx, TX_BUDGET);
    const hw = this.hw;
    if (hw !== null && this.state.kind === 'unavailable' && this.state.planned && hw.ejectAcked) {
      while (hw.pollTx(this.forwardTx, TX_BUDGET) > 0); // the guest let go: everything it queued goes out
      this.finishRemoval(false);
      work++;
    }
    return work;
  }

  stats(): { readonly state: string; readonly serial: number | null; readonly linkUp: boolean; readonly counters: Record<string, number>; readonly device: Readonly<Record<string, number>> | null } {
    const s = this.state;
    return { state: s.kind, serial: s.kind === 'none' ? null : s.serial, linkUp: this.hw?.linkUp ?? false, counters: this.counters.snapshot(), device: this.hw?.deviceCounters?.() ?? null };
  }

  /** SR-IOV readiness and guest resets are observed on the NIC, not signalled (no coordinator hook needed). */
  private observeGuest(): void {
    const k = this.state.kind;
    if (k === 'none' || k === 'unavailable') return;
    if (k === 'initializing') {
      if (this.guestCanTakeVf()) {
        this.state = S.onGuestSriov(this.state);
        this.startShowDelay();
      }
      return;
    }
    if (this.nic.sriovNegotiated()) return;
    // The primary channel closed (§3.7): the guest forgets the association and must negotiate again.
    this.stopShowDelay();
    if (k === 'switched' || k === 'switchPending') this.steerToSynthetic();
    this.state = S.onGuestReset(this.state);
    this.counters.inc('vf_guest_resets');
  }

  /**
   * SR-IOV negotiated and the guest's packet filter set (its RNDIS data path is open): an
   * association sent while it is still setting up its buffers can come before its queues read
   * in-band messages and be lost (a short show delay in the lab makes that window real; Hyper-V's
   * 1 s hides it).
   */
  private guestCanTakeVf(): boolean {
    return this.nic.sriovNegotiated() && this.nic.packetFilter !== 0;
  }

  private startShowDelay(): void {
    this.stopShowDelay();
    this.cancelShow = this.nic.clock.after(this.showDelayMs, () => {
      this.cancelShow = null;
      this.show();
    });
  }

  private stopShowDelay(): void {
    this.cancelShow?.();
    this.cancelShow = null;
  }

  /** The delay ran out: association {1, serial} (§3.10), then the device appears in the VM. */
  private show(): void {
    const hw = this.hw;
    if (hw === null) return;
    try {
      this.state = S.onShowDelayElapsed(this.state);
    } catch (e) {
      return this.illegal(e);
    }
    this.queueAssociation(1, hw.serial);
    if (!hw.plugged) hw.plug();
    this.state = S.onVfShown(this.state);
    this.emit('shown', `serial ${hw.serial}`);
  }

  private steerToSynthetic(): void {
    if (this.vfHandle === null) return;
    this.nic.port.steerHere(this.nic.macNumber, this.vfHandle);
    this.counters.inc('vf_host_switch_back');
  }

  private finishRemoval(lost: boolean): VfLoss {
    const hw = this.hw!;
    this.cancelEject?.();
    this.cancelEject = null;
    const loss = hw.plugged ? hw.unplug() : { lostTx: 0, lostRx: 0 };
    if (lost || loss.lostTx + loss.lostRx > 0) {
      this.counters.inc('vf_lost_tx', loss.lostTx);
      this.counters.inc('vf_lost_rx', loss.lostRx);
    }
    this.port.hw = null;
    this.vfHandle?.remove();
    this.vfHandle = null;
    this.nic.port.releaseSteering(this.nic.macNumber);
    this.hw = null;
    this.state = S.onRemoved(this.state);
    this.emit('removed', `lost tx ${loss.lostTx} rx ${loss.lostRx}`);
    return loss;
  }

  private queueAssociation(allocated: number, serial: number): void {
    if (this.pendingAssoc === null && this.sendAssociation(allocated, serial)) return;
    // Keep only the newest: {0} after {1} means the guest must end up without the VF.
    this.pendingAssoc = { allocated, serial };
    this.counters.inc('vf_association_deferred');
  }

  private sendAssociation(allocated: number, serial: number): boolean {
    this.scratch.fill(0);
    emitNvsp({ type: NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION, allocated, serial }, this.scratchDv, 0);
    // Sent as a whole 40-byte nvsp_message, as Hyper-V does (§3.4).
    if (!this.nic.sendInband(this.scratch, NVSP_MESSAGE_SIZE)) return false;
    this.counters.inc('vf_associations_sent');
    return true;
  }

  private illegal(e: unknown): void {
    if (!isNetvscError(e)) throw e;
    this.counters.inc('vf_unexpected');
    this.lastError = e;
    this.emit('unexpected', e.message);
  }

  private emit(what: HostVfEvent['what'], detail: string): void {
    this.onEvent({ atMs: this.nic.clock.now(), what, state: this.state.kind, detail });
  }
}
