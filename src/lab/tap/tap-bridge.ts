/**
 * A VM NIC bridged to a Linux TAP interface, inside the VM's worker: frames the kernel writes to
 * the TAP are transmitted by the guest netvsc driver (through the VMBus rings to the host and its
 * switch), frames the driver receives are written to the TAP. The virtio-net header is mapped to
 * RNDIS per-packet info both ways (offload-map.ts). Runs on the VM's EventLoop as a Pollable; the
 * TAP's RX worker rings the VM's doorbell, so the loop sleeps on one address.
 * Data path: the frame is used in place in the TAP ring; no allocation per frame. With a TxArena
 * (inline reads, a NIC that sends in place) the kernel's frames are read straight into guest
 * memory and sent from there (xmitInPlace: no copy into the NIC's pool, none to hold a frame back);
 * RSC packets go to the kernel as their fragment list in one writev() (no reassembly copy).
 */
import { newFrameMeta, type FrameMeta } from '../../core/index.js';
import { newTxMeta, RX_F_FRAGS, RX_F_VLAN, TX_F_CSUM, TX_F_LSO, XMIT_BUSY, XMIT_IN_PLACE, type RxMeta, type TxMeta } from '../../guest/index.js';
import type { TapPort } from '../../io/index.js';
import { FlowKey } from '../../packet/index.js';
import type { Pollable } from '../../vmbus/index.js';
import type { GuestNicDriver, NicOffloads } from '../nic-driver.js';
import { HeldTx } from './held-tx.js';
import type { NicCapture } from '../capture/guest-capture.js';
import { rxMetaToVnet, TX_MAP_BAD, TX_MAP_NO_LSO, TX_MAP_SEND, vnetToTxMeta, vnetToTxRequest, type TxRequestOut } from './offload-map.js';
import type { TxArena } from './tx-arena.js';
import { vlanPpiToTci } from '../../wire/index.js';

/** Guest memory and the arena in it that the kernel's frames are read into (in-place transmit). */
export interface TapTxArena {
  readonly memory: Uint8Array;
  readonly arena: TxArena;
}

/** How a NIC is bridged (structured-cloneable: it crosses to the VM worker). */
export interface TapBridgeOptions {
  /** Map offloads (the TAP was opened with TUN_F_CSUM and TSO as negotiated); false = plain frames. */
  readonly offloads: boolean;
  /** Frames taken from the TAP per poll (default 64). */
  readonly budget?: number;
  /** Read the kernel's frames into guest memory and send them in place when the port reads the fd (default true). */
  readonly inPlace?: boolean;
}

/** The bridge's own counters (the driver's are in `ethtool -S`). */
export interface TapBridgeCounters {
  tx_frames: number;
  /** Frames sent with a checksum PPI / an LSOv2 PPI. */
  tx_csum_offload: number;
  tx_lso: number;
  /** Partial checksums completed here because the host does not offer that class. */
  tx_csum_sw: number;
  /** Frames held because the NIC queue was stopped (retried, not lost). */
  tx_held: number;
  /** Frames dropped: metadata that maps to nothing, LSO lost, or a frame the driver refuses. */
  tx_dropped: number;
  rx_frames: number;
  rx_data_valid: number;
  /** RSC-coalesced frames handed to the kernel as GSO super-frames. */
  rx_gro: number;
  /** Received frames the TAP ring had no room for. */
  rx_ring_full: number;
  /** Frames the NIC took in place (its completion frees their arena space) / polls that found the arena full. */
  tx_in_place: number;
  tx_arena_full: number;
  /** RSC packets written to the TAP as a fragment list (one writev, no reassembly). */
  rx_frag_lists: number;
  /** Frames received with an 802.1Q PPI, written to the TAP with the tag back in the frame. */
  rx_vlan_tagged: number;
  /** Now (tapStats): frames the host may still be reading in place / frames waiting in the arena for queue room. */
  tx_in_flight?: number;
  tx_pending?: number;
  /** Completions for an arena token not in flight (twice, late for a record since reused, unknown): ignored, nothing freed. */
  tx_done_ignored?: number;
  /** Completions from a driver replaced by a re-probe, after its close (ignored) / records it never returned (freed at the re-probe). */
  tx_done_stale?: number;
  tx_done_missing?: number;
}

export function newTapBridgeCounters(): TapBridgeCounters {
  return { tx_frames: 0, tx_csum_offload: 0, tx_lso: 0, tx_csum_sw: 0, tx_held: 0, tx_dropped: 0, rx_frames: 0, rx_data_valid: 0, rx_gro: 0, rx_ring_full: 0, tx_in_place: 0, tx_arena_full: 0, rx_frag_lists: 0, rx_vlan_tagged: 0 };
}

export class TapBridge implements Pollable {
  readonly counters = newTapBridgeCounters();
  private readonly txMeta = newTxMeta();
  private readonly rxFrameMeta: FrameMeta = newFrameMeta();
  private readonly key = new FlowKey();
  private readonly held = new HeldTx();
  private readonly budget: number;
  private caps: NicOffloads;
  private mtu: number;
  /** The driver refused a frame this poll: hold the rest of the batch in order. */
  private blocked = false;
  private readonly fromKernel = (b: Uint8Array, off: number, len: number, m: FrameMeta): void => this.transmit(b, off, len, m);
  private readonly fromKernelInPlace = (b: Uint8Array, off: number, len: number, m: FrameMeta): void => this.readInPlace(b, off, len, m);
  private readonly req: TxRequestOut = { csum: false, mss: 0 };
  private readonly vnetHdrLen: number;
  private readonly onFrame = (u8: Uint8Array, off: number, len: number, meta: RxMeta): void => this.receive(u8, off, len, meta);
  /** Whether RSC packets come as fragment lists (no capture): set again on a re-probed driver. */
  private readonly rxLists: boolean;

  constructor(
    /** The NIC's driver: a new one after a host rescind + re-offer (setDriver). */
    private driver: GuestNicDriver,
    private readonly port: TapPort,
    private readonly o: TapBridgeOptions,
    /** The NIC's guest TX/RX capture (owned by the VM's captures), or null. */
    private readonly capture: NicCapture | null = null,
    /** In-place transmit (VmRuntime.attachTap gives one when the port reads the fd inline), or null. */
    private readonly tx: TapTxArena | null = null,
  ) {
    this.budget = Math.min(o.budget ?? 64, this.held.capacity);
    this.caps = driver.offloads();
    this.mtu = driver.info().mtu;
    this.vnetHdrLen = port.vnetHdrLen;
    driver.onFrame = this.onFrame;
    // A capture wants each frame in one run; without one, RSC packets come as fragment lists.
    this.rxLists = capture === null;
    driver.setRxFragments(this.rxLists);
  }

  /**
   * The NIC was probed again (the host rescinded its channel and offered it anew): transmit,
   * receive and the fragment-list mode follow the new driver. Frames waiting in the arena or in
   * HeldTx go to it first; records in flight on the old device came back through its teardown
   * (its onTxDone, routed to the arena by VmRuntime), never through the new one.
   */
  setDriver(d: GuestNicDriver): void {
    this.driver = d;
    d.onFrame = this.onFrame;
    d.setRxFragments(this.rxLists);
    this.blocked = false;
    this.refresh();
  }

  /** Re-reads the negotiated offloads and MTU (after -G/-L/MTU re-attached the device). */
  refresh(): void {
    this.caps = this.driver.offloads();
    this.mtu = this.driver.info().mtu;
  }

  /** Held frames first, in order; then up to `budget` frames from the TAP. */
  poll(): number {
    if (this.tx !== null) return this.pollInPlace(this.tx.arena);
    let n = 0;
    const held = this.held;
    while (held.count > 0) {
      if (!this.send(held.bytes, held.headOffset(), held.headLength(), held.headMeta(this.txMeta), held.count > 1)) break;
      held.shift();
      n++;
    }
    if (held.count > 0) {
      if (n > 0) this.driver.flushTx();
      // Report no work when nothing moved, so the loop may sleep instead of spinning on a stopped
      // queue and stealing the core the host needs to drain it: the completion that frees room
      // rings our doorbell, and a re-attach (-G/-L/MTU) is retried by the loop's bounded sleep
      // (EventLoopOptions.maxSleepMs). Measured: TCP through the TAP equal or better (docs/tap.md).
      return n;
    }
    this.blocked = false;
    const got = this.port.poll(this.fromKernel, this.budget);
    if (n + got > 0) this.driver.flushTx();
    return n + got;
  }

  idle(): number {
    return 0;
  }

  /** Detached: frames read but not sent are dropped (their space freed); received RSC packets are reassembled again. */
  close(): void {
    this.tx?.arena.dropPending();
    this.driver.setRxFragments(false);
  }

  /**
   * In-place transmit: pending frames first (they wait in the arena, in order, when the queue was
   * stopped), then one batch read straight into the arena's free window and sent from there.
   * Returns 0 when nothing moved, so the loop may sleep: the completion that frees queue room or
   * arena space rings our doorbell.
   */
  private pollInPlace(a: TxArena): number {
    let n = this.sendPending(a);
    if (a.pending > 0) {
      if (n > 0) this.driver.flushTx();
      return n;
    }
    // window() first: it reclaims what completed, records included.
    if (a.window() && a.freeRecords > 0) {
      const got = this.port.pollInto(this.tx!.memory, a.winStart, a.winEnd, this.fromKernelInPlace, Math.min(this.budget, a.freeRecords));
      a.readTo(this.port.readEnd);
      if (got > 0) {
        n += this.sendPending(a);
        this.counters.tx_held += a.pending; // this batch's frames the queue had no room for
      }
    } else this.counters.tx_arena_full++;
    if (n > 0) this.driver.flushTx();
    return n;
  }

  /** A frame read into the arena: mapped and recorded as pending (dropped frames just give their space back). */
  private readInPlace(b: Uint8Array, off: number, len: number, m: FrameMeta): void {
    const c = this.counters;
    const req = this.req;
    const r = this.o.offloads ? vnetToTxRequest(b, off, len, m, this.caps, req) : ((req.csum = false), (req.mss = 0), TX_MAP_SEND);
    if (r !== TX_MAP_SEND) {
      c.tx_dropped++;
      return;
    }
    if (!req.csum && m.flags !== 0 && this.o.offloads) c.tx_csum_sw++;
    this.capture?.guestTx(b, off, len, m);
    this.tx!.arena.add(off - this.vnetHdrLen, off, len, req.csum, req.mss);
  }

  /** Offers pending frames to the NIC in order until one does not fit; returns how many it took. */
  private sendPending(a: TxArena): number {
    const c = this.counters;
    const req = this.req;
    let n = 0;
    while (a.pending > 0) {
      const t = a.headToken();
      a.requestOf(t, req);
      let r: number;
      try {
        r = this.driver.xmitInPlace(a.offsetOf(t), a.lengthOf(t), req, true, t);
      } catch {
        // UNSUPPORTED (LSO lost across a re-attach) or LIMIT: the kernel would drop it at the NIC too.
        c.tx_dropped++;
        a.taken(false);
        continue;
      }
      if (r === XMIT_BUSY) break;
      a.taken(r === XMIT_IN_PLACE);
      n++;
      c.tx_frames++;
      if (r === XMIT_IN_PLACE) c.tx_in_place++;
      if (req.mss > 0) c.tx_lso++;
      else if (req.csum) c.tx_csum_offload++;
    }
    return n;
  }

  private transmit(b: Uint8Array, off: number, len: number, m: FrameMeta): void {
    const c = this.counters;
    const meta = this.txMeta;
    const r = this.o.offloads ? vnetToTxMeta(b, off, len, m, this.caps, meta) : ((meta.flags = 0), TX_MAP_SEND);
    if (r !== TX_MAP_SEND) {
      c.tx_dropped++;
      if (r === TX_MAP_NO_LSO || r === TX_MAP_BAD) return;
    }
    if (meta.flags === 0 && m.flags !== 0 && this.o.offloads) c.tx_csum_sw++;
    this.capture?.guestTx(b, off, len, m);
    if (this.blocked || !this.send(b, off, len, meta, true)) {
      this.blocked = true;
      c.tx_held++;
      this.held.push(b, off, len, meta);
    }
  }

  /** One frame to the driver; false = no room now (nothing taken). A frame it refuses is dropped. */
  private send(b: Uint8Array, off: number, len: number, meta: TxMeta, more: boolean): boolean {
    let ok: boolean;
    try {
      ok = this.driver.transmit(b, off, len, more, meta.flags === 0 ? null : meta);
    } catch {
      // LIMIT (a frame no path can carry): the kernel would drop it at the NIC too.
      this.counters.tx_dropped++;
      return true;
    }
    if (!ok) return false;
    const c = this.counters;
    c.tx_frames++;
    if (meta.flags & TX_F_LSO) c.tx_lso++;
    else if (meta.flags & TX_F_CSUM) c.tx_csum_offload++;
    return true;
  }

  private receive(b: Uint8Array, off: number, len: number, rx: RxMeta): void {
    const c = this.counters;
    c.rx_frames++;
    const vlan = rx.flags & RX_F_VLAN ? rx.vlan : 0;
    this.capture?.guestRx(b, off, len, vlan);
    const m = this.rxFrameMeta;
    const frags = (rx.flags & RX_F_FRAGS) !== 0;
    if (this.o.offloads) {
      if (rxMetaToVnet(b, off, len, rx, this.mtu, this.key, m, frags ? rx.fragLen[0]! : len)) c.rx_gro++;
      else if (m.flags !== 0) c.rx_data_valid++;
    } else m.flags = 0;
    // A trunk port's tag came as the PPI: the kernel gets it back in the frame (the vnet header has no VLAN field).
    const tci = vlan !== 0 ? vlanPpiToTci(vlan) : 0;
    if (tci !== 0) c.rx_vlan_tagged++;
    if (frags) {
      c.rx_frag_lists++;
      if (!this.port.tryWriteFrags(b, rx.fragOff, rx.fragLen, rx.fragments, len, m, tci)) c.rx_ring_full++;
    } else if (!this.port.tryWrite(b, off, len, m, tci)) c.rx_ring_full++;
  }
}
