/**
 * The guest's end of an emulated VF: the VF's own net device in the VM (the "mlx5" netdev next to
 * eth0). It watches the control words (hot-add, link, eject request, removal) and reports them
 * as netdev notifier events; it consumes the RX rings and produces into the TX rings. It stays a
 * device of its own with the synthetic NIC's MAC: its queue count and statistics are read and set
 * here directly, whether or not netvsc has enslaved it.
 */
import { ConfigError } from '../../core/index.js';
import type { VfNetdev, VfNetdevEvent, VfRxHandler } from '../../guest/index.js';
import { FrameRing } from '../../io/index.js';
import { copyBytes } from '../../packet/index.js';
import type { Pollable } from '../../vmbus/index.js';
import { readRxDescVlan, VF_RX_DESC_BYTES, VF_TX_DESC_BYTES, VfCtl, writeTxDesc, type SharedVfSpec } from './shared-vf.js';

/** Per-queue and total counters of the VF device itself (its own `ethtool -S`). */
export interface VfDeviceStats {
  readonly queues: number;
  readonly rx_packets: number;
  readonly rx_bytes: number;
  readonly tx_packets: number;
  readonly tx_bytes: number;
  readonly tx_busy: number;
  readonly perQueue: readonly { readonly rx_packets: number; readonly tx_packets: number }[];
}

export class VfGuestEnd implements VfNetdev, Pollable {
  readonly serial: number;
  readonly permanentMac: Uint8Array;
  readonly maxFrameLen: number;
  rxHandler: VfRxHandler | null = null;
  rxPaused = false;
  /** The VF's own consumer, for frames no master takes (an unmatched VF). */
  onOwnReceive: VfRxHandler = () => {};
  private readonly ctl: Int32Array;
  private readonly tx: FrameRing[];
  private readonly rx: FrameRing[];
  private registered = false;
  private ejectSeen = false;
  private lastLink = false;
  private readonly rxPackets: Float64Array;
  private readonly txPackets: Float64Array;
  private rxBytes = 0;
  private txBytes = 0;
  private txBusy = 0;

  constructor(
    readonly spec: SharedVfSpec,
    readonly name: string,
    /** The VM's netdev notifier chain (every netvsc device hears every VF). */
    private readonly notify: (vf: VfGuestEnd, ev: VfNetdevEvent) => void,
    /** Rings the host's doorbell (workers: its loop may sleep) after a queued frame or an eject ack. */
    private readonly wakeHost: () => void = () => {},
  ) {
    this.serial = spec.serial;
    this.permanentMac = spec.mac;
    this.maxFrameLen = spec.maxFrameLen;
    this.ctl = new Int32Array(spec.ctl);
    this.tx = spec.tx.map((s) => new FrameRing(s));
    this.rx = spec.rx.map((s) => new FrameRing(s));
    this.rxPackets = new Float64Array(spec.maxQueues);
    this.txPackets = new Float64Array(spec.maxQueues);
  }

  get present(): boolean {
    return Atomics.load(this.ctl, VfCtl.Present) !== 0;
  }

  get running(): boolean {
    return this.registered && !this.ejectSeen && this.present;
  }

  get carrier(): boolean {
    return Atomics.load(this.ctl, VfCtl.Link) !== 0;
  }

  get queueCount(): number {
    return Atomics.load(this.ctl, VfCtl.Queues);
  }

  /** The VF's own `ethtool -L`: frames already queued on a dropped queue are still delivered. */
  setQueueCount(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > this.spec.maxQueues) throw new ConfigError('BAD_CONFIG', `${this.name}: queues ${n} not in 1..${this.spec.maxQueues}`);
    Atomics.store(this.ctl, VfCtl.Queues, n);
  }

  stats(): VfDeviceStats {
    return {
      queues: this.queueCount,
      rx_packets: this.rxPackets.reduce((a, b) => a + b, 0),
      rx_bytes: this.rxBytes,
      tx_packets: this.txPackets.reduce((a, b) => a + b, 0),
      tx_bytes: this.txBytes,
      tx_busy: this.txBusy,
      perQueue: Array.from(this.rxPackets, (rx, i) => ({ rx_packets: rx, tx_packets: this.txPackets[i]! })),
    };
  }

  /** `ethtool -S` reset of the VF's own counters (netvsc's vf_* counters are separate). */
  clearStats(): void {
    this.rxPackets.fill(0);
    this.txPackets.fill(0);
    this.rxBytes = this.txBytes = this.txBusy = 0;
  }

  /** False when the queue is full or the device vanished meanwhile: nothing taken (the master retries, then goes synthetic). */
  transmit(frame: Uint8Array, off: number, len: number, queue: number, csum: number, lso: number, vlan: number): boolean {
    const ctl = this.ctl;
    // Busy mark first, then Present (shared-vf.ts VfCtl): a surprise removal waits for us.
    Atomics.add(ctl, VfCtl.TxBusy, 1);
    try {
      if (Atomics.load(ctl, VfCtl.Present) === 0) return false;
      const q = (queue >>> 0) % this.queueCount;
      const r = this.tx[q]!;
      // A TX descriptor: the offload requests, then the frame (shared-vf.ts VF_TX_DESC_BYTES).
      const at = r.reserve(VF_TX_DESC_BYTES + len);
      if (at < 0) {
        this.txBusy++;
        return false;
      }
      writeTxDesc(r.bytes, at, csum, lso, vlan);
      copyBytes(frame, off, r.bytes, at + VF_TX_DESC_BYTES, len);
      r.commit(VF_TX_DESC_BYTES + len);
      this.txPackets[q]! += 1;
      this.txBytes += len;
    } finally {
      Atomics.sub(ctl, VfCtl.TxBusy, 1);
    }
    this.wakeHost();
    return true;
  }

  pollRx(budget: number): number {
    const ctl = this.ctl;
    Atomics.add(ctl, VfCtl.RxBusy, 1); // a count: a receive handler may poll again
    try {
      return Atomics.load(ctl, VfCtl.Present) === 0 ? 0 : this.readRx(budget);
    } finally {
      Atomics.sub(ctl, VfCtl.RxBusy, 1);
    }
  }

  private readRx(budget: number): number {
    let n = 0;
    for (let q = 0; q < this.rx.length && n < budget; q++) {
      const r = this.rx[q]!;
      let got = 0;
      for (let at = r.peek(); at >= 0 && n < budget; at = r.peek()) {
        const len = r.peekLen - VF_RX_DESC_BYTES;
        this.rxPackets[q]! += 1;
        this.rxBytes += len;
        (this.rxHandler ?? this.onOwnReceive)(r.bytes, at + VF_RX_DESC_BYTES, len, q, readRxDescVlan(r.bytes, at));
        r.release();
        n++;
        got++;
      }
      if (got > 0) r.publishTail();
    }
    return n;
  }

  release(): void {
    Atomics.store(this.ctl, VfCtl.EjectAck, 1);
    this.wakeHost();
  }

  /** Watches the control words (PCI hot-plug, link, eject) and receives. */
  poll(): number {
    const present = this.present;
    if (!this.registered) {
      if (!present) return 0;
      this.registered = true;
      this.ejectSeen = false;
      this.lastLink = this.carrier;
      this.notify(this, 'register');
      return 1;
    }
    if (!present) {
      this.registered = false;
      this.notify(this, 'unregister');
      return 1;
    }
    let work = 0;
    if (!this.ejectSeen && Atomics.load(this.ctl, VfCtl.EjectRequest) !== 0) {
      this.ejectSeen = true;
      this.notify(this, 'goingDown');
      // No master took the device (it came before its association, or matches no NIC): its own
      // driver lets go, as a VF driver unbinding on a PCI eject does, after handing on what it holds.
      if (this.rxHandler === null) {
        while (this.pollRx(1 << 20) > 0);
        this.release();
      }
      work++;
    }
    const link = this.carrier;
    if (link !== this.lastLink) {
      this.lastLink = link;
      this.notify(this, 'change');
      work++;
    }
    if (!this.rxPaused && !this.ejectSeen) work += this.pollRx(64);
    return work;
  }

  idle(): number {
    return 0;
  }
}
