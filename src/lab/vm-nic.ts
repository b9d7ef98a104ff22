/**
 * One NIC inside a VM worker: the guest netvsc device plus what the lab plugs into it. Received
 * frames go to the sink of their flow if one runs, otherwise to the attached FramePort (the app
 * port now, a TAP later); frames the port yields are transmitted through the device. While a sink
 * runs, RSC packets come as fragment lists (Contract B) and the sink reads them in place; the
 * capture, the port and a list the sink cannot walk in place get them gathered into one run.
 */
import { clearFrameMeta, newFrameMeta, type FrameMeta, type FramePort } from '../core/index.js';
import type { Pollable } from '../vmbus/index.js';
import { gatherRx, RX_F_FRAGS, RX_F_VLAN, type RxMeta } from '../guest/index.js';
import { vlanId } from '../wire/index.js';
import type { GuestNicDriver } from './nic-driver.js';
import { HeldFrames } from './held-frames.js';
import type { NicCapture } from './capture/guest-capture.js';
import { SinkDemux } from './traffic/demux.js';
import type { FrameTransmitter, StackRequest } from './traffic/generator.js';
import type { TrafficSink } from './traffic/sink.js';

/** VM-side counters of the lab plumbing (not the driver's). */
export interface VmNicCounters {
  /** Received frames the port had no room for. */
  port_rx_dropped: number;
  /** Received frames nobody claimed (no sink for the flow, no port). */
  rx_unclaimed: number;
  /** Frames from the port held back because the device queue was full (retried, not lost). */
  port_tx_held: number;
  /** Times the NIC was probed again after the host rescinded and re-offered it (issue 9 fault). */
  reprobes: number;
  /** Re-probes that failed (the NIC stays down; frames from the port stay held). */
  reprobe_failed: number;
  /** IP fragments of lab traffic whose datagram's first fragment was not seen (traffic/demux.ts). */
  rx_frag_orphan: number;
  /** RSC packets a sink read in place as fragment lists (Contract B: no reassembly copy). */
  rx_lists_in_place: number;
  /** RSC fragment lists gathered into one run: for the capture, the port, or a list a sink could not read in place. */
  rx_lists_gathered: number;
}

export class VmNic implements FrameTransmitter, Pollable {
  readonly counters: VmNicCounters = { port_rx_dropped: 0, rx_unclaimed: 0, port_tx_held: 0, reprobes: 0, reprobe_failed: 0, rx_frag_orphan: 0, rx_lists_in_place: 0, rx_lists_gathered: 0 };
  /** The traffic sinks of this NIC, by flow (and IP fragments by datagram). */
  private readonly demux = new SinkDemux(this.counters);
  private port: FramePort | null = null;
  private readonly rxMeta: FrameMeta = newFrameMeta();
  private readonly held = new HeldFrames();
  private blocked = false;
  /** Guest TX/RX pcaps of this NIC (src/lab/capture), or null. */
  capture: NicCapture | null = null;
  /** Frame meta of a frame without offload requests (what transmit() sends). */
  private readonly plainMeta: FrameMeta = newFrameMeta();
  /** Whether the driver hands RSC packets up as fragment lists (on while a sink runs). */
  private rxLists = false;
  /** A fragment list gathered for the capture or the port; grown (rarely) to the longest list. */
  private gathered = new Uint8Array(0);
  private readonly onFrame = (u8: Uint8Array, off: number, len: number, meta: RxMeta): void => {
    const vlan = meta.flags & RX_F_VLAN ? vlanId(meta.vlan) : 0;
    if ((meta.flags & RX_F_FRAGS) !== 0) {
      if (this.capture === null && this.demux.receiveList(u8, len, meta, vlan)) {
        this.counters.rx_lists_in_place++;
        return;
      }
      this.counters.rx_lists_gathered++;
      if (this.gathered.length < len) this.gathered = new Uint8Array(Math.max(len, 65536 + 1024));
      gatherRx(u8, off, len, meta, this.gathered, 0);
      u8 = this.gathered;
      off = 0;
    }
    if (this.capture !== null) this.capture.guestRx(u8, off, len, meta.flags & RX_F_VLAN ? meta.vlan : 0);
    this.receive(u8, off, len, vlan);
  };
  private readonly fromPort = (u8: Uint8Array, off: number, len: number, m: FrameMeta): void => {
    if (this.capture !== null) this.capture.guestTx(u8, off, len, m);
    if (this.blocked || !this.driver.transmit(u8, off, len, true)) {
      this.blocked = true;
      this.counters.port_tx_held++;
      this.held.push(u8, off, len);
    }
  };

  constructor(
    readonly name: string,
    /** The guest driver; a new one after a re-probe (replaceDriver). */
    public driver: GuestNicDriver,
    private readonly budget = 64,
  ) {
    driver.onFrame = this.onFrame;
  }

  transmit(u8: Uint8Array, off: number, len: number, more: boolean): boolean {
    const ok = this.driver.transmit(u8, off, len, more);
    // Captured once, when taken (a refused frame is offered again): the driver copies it unchanged.
    if (ok && this.capture !== null) this.capture.guestTx(u8, off, len, this.plainMeta);
    return ok;
  }

  /**
   * Puts a re-probed device in place of one the host rescinded: same frame handler, port, sinks and
   * held frames, so traffic resumes where it stopped.
   */
  replaceDriver(d: GuestNicDriver): void {
    d.onFrame = this.driver.onFrame;
    if (d.onFrame === this.onFrame) d.setRxFragments(this.rxLists);
    this.driver = d;
    this.counters.reprobes++;
  }

  xmit(u8: Uint8Array, off: number, len: number, req: StackRequest, more: boolean): boolean {
    // The driver edits the frame (VLAN tag into the PPI…): capture it as the stack handed it, once taken.
    if (this.capture !== null) this.capture.stageTx(u8, off, len, req.csum && req.mss === 0);
    const ok = this.driver.xmit(u8, off, len, req, more);
    if (ok && this.capture !== null) this.capture.commitTx();
    return ok;
  }

  flushTx(): void {
    this.driver.flushTx();
  }

  /** The one integration point for frames from outside the VM: app port now, TAP port later. */
  attachPort(port: FramePort): void {
    this.port = port;
  }

  addSink(sink: TrafficSink): void {
    this.demux.sinks.push(sink);
    this.listsWhileSinks();
  }

  removeSink(sink: TrafficSink): void {
    const i = this.demux.sinks.indexOf(sink);
    if (i >= 0) this.demux.sinks.splice(i, 1);
    this.listsWhileSinks();
  }

  /**
   * A sink walks RSC fragment lists in place (no reassembly copy); without one, contiguous frames as
   * before. Only while this NIC receives the driver's frames: a TAP bridge that took onFrame over
   * chooses its own mode.
   */
  private listsWhileSinks(): void {
    const on = this.demux.sinks.length > 0;
    if (on === this.rxLists) return;
    this.rxLists = on;
    if (this.driver.onFrame === this.onFrame) this.driver.setRxFragments(on);
  }

  /** Moves frames from the port into the device; held frames go first, in order. */
  poll(): number {
    const port = this.port;
    if (!port) return 0;
    let n = 0;
    const held = this.held;
    while (held.count > 0) {
      if (!this.driver.transmit(held.bytes, held.headOffset(), held.headLength(), held.count > 1)) break;
      held.shift();
      n++;
    }
    if (held.count > 0) {
      if (n > 0) this.driver.flushTx();
      return n;
    }
    this.blocked = false;
    const got = port.poll(this.fromPort, Math.min(this.budget, held.capacity));
    if (n + got > 0) this.driver.flushTx();
    return n + got;
  }

  idle(): number {
    return 0;
  }

  /** `vlan`: the VLAN the frame came on (its receive VLAN PPI), 0 when untagged. */
  private receive(u8: Uint8Array, off: number, len: number, vlan: number): void {
    if (this.demux.receive(u8, off, len, vlan)) return;
    if (this.port) {
      clearFrameMeta(this.rxMeta);
      if (!this.port.tryWrite(u8, off, len, this.rxMeta)) this.counters.port_rx_dropped++;
      return;
    }
    this.counters.rx_unclaimed++;
  }
}
