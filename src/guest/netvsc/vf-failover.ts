/**
 * Transparent VF failover for one netvsc device (protocol.md §3.10, §6.8, §1.3): the synthetic NIC
 * is the master, the VF its slave. A VF is taken only when its serial equals the host's
 * SEND_VF_ASSOCIATION serial and its permanent MAC equals ours. The data path goes to the VF
 * (SWITCH_DATA_PATH 1, then wait for the empty completion) when the VF runs with carrier, and
 * back (clear data_path_is_vf first, then SWITCH_DATA_PATH 0) when it goes down or away. TX uses
 * the VF only while on it and falls back to synthetic at once otherwise; frames the VF receives
 * are handed to the synthetic NIC's consumer.
 *
 * Stricter than Linux: no MAC-only fallback match (our VFs always have a serial), and a removal
 * association naming another serial is counted and ignored. Ordering: before a synthetic frame is
 * delivered the VF's receive queues are drained (the host's steering moved earlier frames there),
 * and while SWITCH_DATA_PATH(1) is outstanding the VF holds its frames.
 */
import { Counters, isNetvscError, ProtocolError, type Clock } from '../../core/index.js';
import type { GuestCounters } from './counters.js';
import type { VfAssociation } from './inband.js';
import { newRxMeta, RX_F_VLAN, TX_F_CSUM, TX_F_HASH, TX_F_LSO, TX_F_VLAN, type RxMeta, type TxMeta } from './meta.js';
import * as P from './vf-path.js';
import type { VfNetdev, VfNetdevEvent, VfRxHandler } from './vf-netdev.js';

/** transmit(): the VF is not in use, send on the synthetic path. */
export const VF_TX_UNUSED = -1;
/** transmit(): the VF queue is full; nothing taken (retry, like a stopped queue). */
export const VF_TX_BUSY = 0;
/** transmit(): the VF took the frame (or dropped it, counted vf_tx_dropped). */
export const VF_TX_TAKEN = 1;

export const VF_FAILOVER_COUNTER_NAMES = [
  'vf_registered', // a VF matched and was enslaved
  'vf_ignored', // a VF registered that matches no association (serial or MAC)
  'vf_assoc_unknown', // a removal association for a serial we were not given
  'vf_switch_to_vf',
  'vf_switch_to_synthetic',
  'vf_switch_failed', // SWITCH_DATA_PATH got no completion (timeout, channel gone, ring full)
  'vf_tx_busy', // the VF transmit queue was full
  'vf_tx_held_switching', // TX refused (retry) while SWITCH_DATA_PATH(1) was outstanding: order
  'vf_tx_vlan_inserted', // frames handed to the VF with an 802.1Q tag for it to insert
  'vf_removed_planned',
  'vf_removed_surprise',
  'vf_rx_drained_on_removal', // frames taken off the VF after its eject request, none lost
] as const;
export type VfFailoverCounters = Counters<(typeof VF_FAILOVER_COUNTER_NAMES)[number]>;

/** What the failover needs from its netvsc device. */
export interface FailoverHost {
  readonly clock: Clock;
  readonly counters: GuestCounters;
  /** True while attached (NVSP can be sent). */
  isAttached(): boolean;
  /** The synthetic NIC's permanent MAC; null while detached. */
  permanentMac(): Uint8Array | null;
  /** SWITCH_DATA_PATH (1 = VF) and its empty completion; rejects typed. */
  sendSwitch(toVf: boolean): Promise<void>;
  /** Delivers what the synthetic channels already hold (before the VF's first frame: order). */
  drainSynthetic(): void;
  /** The synthetic NIC's consumer. */
  deliver(u8: Uint8Array, off: number, len: number, meta: RxMeta): void;
}

/** Something a user sees (`netvsc vf`, logs). */
export interface VfUserEvent {
  readonly atMs: number;
  readonly what: 'vfAdded' | 'vfIgnored' | 'dataPathSwitched' | 'vfRemoved' | 'switchFailed' | 'associationIgnored';
  readonly serial: number;
  readonly detail: string;
}

const EVENT_HISTORY = 64;
const RX_DRAIN_BUDGET = 1 << 20;

export class VfFailover {
  path: P.GuestDataPath = { kind: 'synthetic' };
  /** The enslaved VF. */
  vf: VfNetdev | null = null;
  /** The host's last association (§3.10), as we accepted it. */
  assoc: VfAssociation = { allocated: false, serial: 0 };
  readonly counters: VfFailoverCounters = new Counters(VF_FAILOVER_COUNTER_NAMES);
  /** The last EVENT_HISTORY events, oldest first. */
  readonly events: VfUserEvent[] = [];
  onEvent: (e: VfUserEvent) => void = () => {};
  lastError: Error | null = null;
  private readonly candidates = new Set<VfNetdev>();
  /** Registered before any association: not yet judged. */
  private readonly waiting = new Set<VfNetdev>();
  private readonly rxMeta: RxMeta = newRxMeta(0);
  private readonly rxFromVf: VfRxHandler;
  /** Bumped by reset(): a completion from an older attachment changes nothing. */
  private generation = 0;
  /** A switch to this serial failed: do not retry until something changes. */
  private failedSerial = -1;
  private readonly sRxP: number;
  private readonly sRxB: number;
  private readonly sTxP: number;
  private readonly sTxB: number;
  private readonly sTxDrop: number;
  private readonly sTxBusy: number;
  private readonly sTxHeld: number;
  private readonly sTxVlan: number;

  constructor(private readonly host: FailoverHost) {
    const c = host.counters;
    this.sRxP = c.slot('vf_rx_packets');
    this.sRxB = c.slot('vf_rx_bytes');
    this.sTxP = c.slot('vf_tx_packets');
    this.sTxB = c.slot('vf_tx_bytes');
    this.sTxDrop = c.slot('vf_tx_dropped');
    this.sTxBusy = this.counters.slot('vf_tx_busy');
    this.sTxHeld = this.counters.slot('vf_tx_held_switching');
    this.sTxVlan = this.counters.slot('vf_tx_vlan_inserted');
    // Bound once: the receive hook runs per frame and allocates nothing.
    this.rxFromVf = (u8, off, len, queue, vlan) => {
      c.add(this.sRxP);
      c.add(this.sRxB, len);
      this.rxMeta.queue = queue;
      // A stripped tag reaches the stack as the synthetic path's VLAN PPI would.
      this.rxMeta.flags = vlan >= 0 ? RX_F_VLAN : 0;
      this.rxMeta.vlan = vlan >= 0 ? vlan : 0;
      this.host.deliver(u8, off, len, this.rxMeta);
    };
  }

  /** Linux's data_path_is_vf. */
  get dataPathIsVf(): boolean {
    return this.path.kind === 'onVf';
  }

  /** A netdev notifier event for a VF in this VM (every VF, matching or not). */
  vfEvent(vf: VfNetdev, ev: VfNetdevEvent): void {
    switch (ev) {
      case 'register':
        this.candidates.add(vf);
        this.tryMatch();
        // Before any association the VF waits for one (the device can be seen before the host's
        // in-band message is read): judged when it comes, not counted ignored now.
        if (this.vf !== vf && this.assoc.allocated) this.ignore(vf);
        else if (this.vf !== vf) this.waiting.add(vf);
        this.reconcile();
        return;
      case 'change':
        if (vf === this.vf) this.reconcile();
        return;
      case 'goingDown':
      case 'unregister':
        this.candidates.delete(vf);
        this.waiting.delete(vf);
        if (vf === this.vf) this.leave(vf, ev === 'goingDown');
        return;
    }
  }

  /** The host's SEND_VF_ASSOCIATION (§3.10), after the in-band decoder accepted it. */
  onAssociation(a: VfAssociation): void {
    if (!a.allocated && this.assoc.allocated && a.serial !== 0 && a.serial !== this.assoc.serial) {
      this.counters.inc('vf_assoc_unknown');
      this.lastError = new ProtocolError('UNEXPECTED_MESSAGE', `VF removal for serial ${a.serial}, ours is ${this.assoc.serial}`);
      this.emit('associationIgnored', a.serial, this.lastError.message);
      return;
    }
    this.assoc = a;
    this.failedSerial = -1;
    if (a.allocated) {
      this.tryMatch();
      for (const w of this.waiting) if (w !== this.vf) this.ignore(w);
      this.waiting.clear();
    }
    this.reconcile();
  }

  /** The device detaches (§6.8 resume: data_path_is_vf is reset; the host forgets too). */
  reset(): void {
    this.generation++;
    this.path = { kind: 'synthetic' };
    this.failedSerial = -1;
    if (this.vf !== null) this.vf.rxPaused = false;
  }

  /** Re-evaluates after an attach (an association that came during it can be matched now). */
  attached(): void {
    this.tryMatch();
    this.reconcile();
  }

  /** §1.3 step 2: the VF when on it and it runs with carrier; else VF_TX_UNUSED (synthetic). */
  transmit(frame: Uint8Array, off: number, len: number, meta: TxMeta | null): number {
    const vf = this.vf;
    // While SWITCH_DATA_PATH(1) is outstanding, hold TX like a stopped queue: a synthetic frame sent
    // now could reach the host after it took the switch and be overtaken by the first VF frames
    // (the host drains the VF before each synthetic frame, not the other way round).
    if (this.path.kind === 'switchingToVf') {
      this.counters.add(this.sTxHeld);
      return VF_TX_BUSY;
    }
    if (vf === null || this.path.kind !== 'onVf' || !vf.running || !vf.carrier) return VF_TX_UNUSED;
    // The VF fills checksums, cuts LSO super-frames and inserts the 802.1Q tag itself (the
    // synthetic path's checksum, LSO and VLAN PPIs, carried in its TX descriptor instead).
    const flags = meta === null ? 0 : meta.flags;
    const vlan = (flags & TX_F_VLAN) !== 0 ? meta!.vlan & 0xffff : -1; // the PPI's 16 defined bits
    const lso = (flags & TX_F_LSO) !== 0 ? meta!.lso : 0;
    if (len > vf.maxFrameLen && lso === 0) {
      this.host.counters.add(this.sTxDrop);
      return VF_TX_TAKEN;
    }
    if (!vf.transmit(frame, off, len, (flags & TX_F_HASH) !== 0 ? meta!.hash : 0, (flags & TX_F_CSUM) !== 0 ? meta!.csum : 0, lso, vlan)) {
      this.counters.add(this.sTxBusy);
      return VF_TX_BUSY;
    }
    if (vlan >= 0) this.counters.add(this.sTxVlan);
    this.host.counters.add(this.sTxP);
    this.host.counters.add(this.sTxB, len);
    return VF_TX_TAKEN;
  }

  /** Delivers what the VF received so far (called before each synthetic frame: order). */
  drainRx(): number {
    const vf = this.vf;
    return vf === null || vf.rxPaused ? 0 : vf.pollRx(RX_DRAIN_BUDGET);
  }

  private matches(vf: VfNetdev): boolean {
    const mac = this.host.permanentMac();
    if (!this.assoc.allocated || vf.serial !== this.assoc.serial || mac === null) return false;
    for (let i = 0; i < 6; i++) if (vf.permanentMac[i] !== mac[i]) return false;
    return true;
  }

  private ignore(vf: VfNetdev): void {
    this.counters.inc('vf_ignored');
    this.emit('vfIgnored', vf.serial, `${vf.name}: no association for serial ${vf.serial} with this MAC`);
  }

  private tryMatch(): void {
    if (this.vf !== null) return;
    for (const c of this.candidates) {
      if (!this.matches(c)) continue;
      this.candidates.delete(c);
      this.waiting.delete(c);
      this.vf = c;
      c.rxHandler = this.rxFromVf;
      this.counters.inc('vf_registered');
      this.emit('vfAdded', c.serial, c.name);
      return;
    }
  }

  /** §6.8 up/down: vf_is_up versus data_path_is_vf; at most one switch in flight. */
  private reconcile(): void {
    const vf = this.vf;
    const want = vf !== null && vf.running && vf.carrier && this.host.isAttached() && this.matches(vf) && vf.serial !== this.failedSerial;
    if (this.path.kind === 'synthetic' && want) {
      this.path = P.onStartToVf(this.path, vf.serial);
      vf.rxPaused = true;
      this.switchTo(true);
    } else if (this.path.kind === 'onVf' && !want) {
      // data_path_is_vf is cleared here, before the message (§3.10): TX is synthetic from now on.
      this.path = P.onStartToSynthetic(this.path);
      this.switchTo(false);
    }
  }

  private switchTo(toVf: boolean): void {
    const gen = this.generation;
    const serial = this.path.kind === 'synthetic' ? 0 : this.path.serial;
    this.host.sendSwitch(toVf).then(
      () => this.switchDone(gen, serial, true, null),
      (e: unknown) => this.switchDone(gen, serial, false, e),
    );
  }

  private switchDone(gen: number, serial: number, ok: boolean, e: unknown): void {
    if (gen !== this.generation) return;
    const toVf = this.path.kind === 'switchingToVf';
    this.path = P.onSwitchDone(this.path, ok);
    // Every channel, not only the one the completion came on, goes before the VF's held frames.
    if (ok && toVf) this.host.drainSynthetic();
    if (this.vf !== null) this.vf.rxPaused = false;
    if (ok) {
      this.counters.inc(toVf ? 'vf_switch_to_vf' : 'vf_switch_to_synthetic');
      this.emit('dataPathSwitched', serial, toVf ? 'to VF' : 'to synthetic');
    } else {
      if (!isNetvscError(e)) throw e;
      this.counters.inc('vf_switch_failed');
      this.lastError = e;
      if (toVf) this.failedSerial = serial;
      this.emit('switchFailed', serial, e.message);
    }
    this.reconcile();
  }

  /** The VF goes away: planned (eject request: drain, then let go) or surprise (already gone). */
  private leave(vf: VfNetdev, planned: boolean): void {
    if (this.path.kind === 'onVf') {
      this.path = P.onStartToSynthetic(this.path);
      this.switchTo(false);
    }
    // A switch to the VF still in flight is undone by reconcile() when its completion comes.
    vf.rxPaused = false;
    if (planned) {
      let n = 0;
      for (let k; (k = vf.pollRx(RX_DRAIN_BUDGET)) > 0; ) n += k;
      this.counters.inc('vf_rx_drained_on_removal', n);
    }
    vf.rxHandler = null;
    this.vf = null;
    if (planned) vf.release();
    this.counters.inc(planned ? 'vf_removed_planned' : 'vf_removed_surprise');
    this.emit('vfRemoved', vf.serial, planned ? 'planned' : 'surprise');
  }

  private emit(what: VfUserEvent['what'], serial: number, detail: string): void {
    const e: VfUserEvent = { atMs: this.host.clock.now(), what, serial, detail };
    if (this.events.length >= EVENT_HISTORY) this.events.shift();
    this.events.push(e);
    this.onEvent(e);
  }
}
