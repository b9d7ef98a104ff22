/**
 * The host's end of an emulated VF: what src/host's HostVf drives (VfHardware). It produces into
 * the RX rings, consumes the TX rings, and owns the control words the guest watches.
 */
import { copyBytes } from '../../packet/index.js';
import { FrameRing } from '../../io/index.js';
import type { VfFrameHandler, VfHardware, VfLoss } from '../../host/index.js';
import { readDescU32, readTxDescVlan, VF_RX_DESC_BYTES, VF_TX_DESC_BYTES, VfCtl, vfQueueFor, writeRxDesc, type SharedVfSpec } from './shared-vf.js';
import { VfTxOffload } from './vf-tx-offload.js';

export class VfHostEnd implements VfHardware {
  readonly serial: number;
  readonly mac: Uint8Array;
  private readonly ctl: Int32Array;
  private readonly tx: FrameRing[];
  private readonly rx: FrameRing[];
  private nextTx = 0;
  /** The VF's TX offload engine (checksum fill, LSO): its counters are the VF port's own. */
  readonly txOffload = new VfTxOffload();

  /**
   * @param wakeGuest rings the VM's doorbell (workers: the VM's loop may sleep); called after every
   * control-word change and received frame. Nothing to do in the single-thread testbed.
   */
  constructor(
    readonly spec: SharedVfSpec,
    private readonly wakeGuest: () => void = () => {},
  ) {
    this.serial = spec.serial;
    this.mac = spec.mac;
    this.ctl = new Int32Array(spec.ctl);
    this.tx = spec.tx.map((s) => new FrameRing(s));
    this.rx = spec.rx.map((s) => new FrameRing(s));
  }

  get plugged(): boolean {
    return Atomics.load(this.ctl, VfCtl.Present) !== 0;
  }

  get linkUp(): boolean {
    return Atomics.load(this.ctl, VfCtl.Link) !== 0;
  }

  get ejectAcked(): boolean {
    return Atomics.load(this.ctl, VfCtl.EjectAck) !== 0;
  }

  plug(): void {
    Atomics.store(this.ctl, VfCtl.EjectRequest, 0);
    Atomics.store(this.ctl, VfCtl.EjectAck, 0);
    Atomics.store(this.ctl, VfCtl.Present, 1);
    this.wakeGuest();
  }

  setLink(up: boolean): void {
    Atomics.store(this.ctl, VfCtl.Link, up ? 1 : 0);
    this.wakeGuest();
  }

  requestEject(): void {
    Atomics.store(this.ctl, VfCtl.EjectRequest, 1);
    this.wakeGuest();
  }

  /** Round-robin over the TX rings so one busy queue cannot starve the others. */
  pollTx(fn: VfFrameHandler, budget: number): number {
    let n = 0;
    const rings = this.tx;
    for (let k = 0; k < rings.length && n < budget; k++) {
      const r = rings[(this.nextTx + k) % rings.length]!;
      let got = 0;
      for (let at = r.peek(); at >= 0 && n < budget; at = r.peek()) {
        const len = r.peekLen - VF_TX_DESC_BYTES;
        if (len > 0) this.txOffload.finish(r.bytes, at + VF_TX_DESC_BYTES, len, readDescU32(r.bytes, at), readDescU32(r.bytes, at + 4), readTxDescVlan(r.bytes, at), fn);
        else this.txOffload.counters.offload_errors++;
        r.release();
        n++;
        got++;
      }
      if (got > 0) r.publishTail();
    }
    this.nextTx = (this.nextTx + 1) % rings.length;
    return n;
  }

  deliverRx(b: Uint8Array, off: number, len: number, vlanTci: number): boolean {
    const q = vfQueueFor(b, off, len, Atomics.load(this.ctl, VfCtl.Queues));
    const r = this.rx[q]!;
    const at = r.reserve(VF_RX_DESC_BYTES + len);
    if (at < 0) return false;
    writeRxDesc(r.bytes, at, vlanTci);
    copyBytes(b, off, r.bytes, at + VF_RX_DESC_BYTES, len);
    r.commit(VF_RX_DESC_BYTES + len);
    this.wakeGuest();
    return true;
  }

  deviceCounters(): Readonly<Record<string, number>> {
    return { ...this.txOffload.counters };
  }

  /** The device leaves the VM: the guest stops touching it; what is still queued is counted lost. */
  unplug(): VfLoss {
    Atomics.store(this.ctl, VfCtl.Present, 0);
    // A guest in another thread may be inside transmit()/pollRx() having seen Present = 1: wait
    // until it is out (microseconds; never in one thread). After that it sees 0 and stays away.
    for (let spins = 0; spins < 50_000_000 && (Atomics.load(this.ctl, VfCtl.TxBusy) | Atomics.load(this.ctl, VfCtl.RxBusy)) !== 0; spins++);
    let lostTx = 0;
    for (const r of this.tx) {
      for (let at = r.peek(); at >= 0; at = r.peek()) {
        r.release();
        lostTx++;
      }
      r.publishTail();
    }
    let lostRx = 0;
    for (const s of this.spec.rx) {
      const r = new FrameRing(s); // a consumer's view from the guest's last published position
      for (let at = r.peek(); at >= 0; at = r.peek()) {
        r.release();
        lostRx++;
      }
      r.publishTail();
    }
    this.wakeGuest();
    return { lostTx, lostRx };
  }
}
