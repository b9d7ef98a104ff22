/**
 * The seam between the lab and the guest driver: what a VM worker needs of one netvsc device.
 * guest-nic.ts adapts NetvscDevice to it, so the VM side of the lab does not change when the
 * driver's API moves.
 */
import type { EthtoolView, RxMeta, TxMeta, VfNetdev, VfNetdevEvent, VfUserEvent } from '../guest/index.js';

/** What a NIC negotiated at bring-up (read by tests against the host profile). */
export interface NicInfo {
  readonly name: string;
  readonly mac: string;
  readonly nvspVersion: number;
  /** major << 16 | minor */
  readonly ndisVersion: number;
  readonly mtu: number;
  readonly queues: number;
  readonly rxSections: number;
  readonly txSections: number;
  readonly linkUp: boolean;
}

/** Receives one frame; bytes and meta (the receive PPIs, reused) valid only during the call. */
export type LabFrameHandler = (u8: Uint8Array, off: number, len: number, meta: RxMeta) => void;

/** The transmit offloads the driver negotiated with the host (what a TAP bridge may ask for). */
export interface NicOffloads {
  /** TX checksum classes: IPV4_TCP 1, IPV4_UDP 2, IPV6_TCP 0x10, IPV6_UDP 0x20 (Linux's mask). */
  readonly txCsumMask: number;
  readonly tso4: boolean;
  readonly tso6: boolean;
  readonly gsoMax: number;
}

/** The request the stack hands xmit(): L4 checksum wanted, TCP segment size (0 = not LSO). */
export interface StackTxRequest {
  readonly csum: boolean;
  readonly mss: number;
}

/** The run-time switches of ethtool -K/-N, as the driver holds them now. */
export interface NicSwitches {
  readonly gro: boolean;
  readonly lro: boolean;
  /** rx-flow-hash per class: 'sdfn' = hashed with ports. */
  readonly flowHash: Readonly<Record<'tcp4' | 'tcp6' | 'udp4' | 'udp6', 'sd' | 'sdfn'>>;
}

export interface GuestNicDriver {
  /**
   * The stack's transmit (NetvscDevice.xmit, docs/offloads.md): an 802.1Q tag in the frame
   * becomes the VLAN PPI, `csum` asks for the L4 checksum (host or software), `mss` > 0 sends a
   * TCP super-frame as LSOv2; the TX hash picks the queue. The frame is edited in place (tag
   * popped, checksum fields); false = no room now, the frame is as given.
   */
  xmit(u8: Uint8Array, off: number, len: number, req: StackTxRequest, more: boolean): boolean;
  /** ethtool -X: a new Toeplitz key and/or indirection table. */
  setRxfh(o: { readonly key?: Uint8Array; readonly indir?: readonly number[] }): Promise<void>;
  /** ethtool -N rx-flow-hash: the TX hash of one class by addresses only (sd) or with ports (sdfn). */
  setRxFlowHash(cls: 'tcp4' | 'tcp6' | 'udp4' | 'udp6', fields: 'sd' | 'sdfn'): void;
  /** ethtool -K gro. */
  setGro(on: boolean): void;
  /** ethtool -K lro (host RSC; refused when the host offers none). */
  setLro(on: boolean): Promise<void>;
  /** What -K switched: GRO and LRO as they are now, and the TX hash classes hashed with ports. */
  switches(): NicSwitches;
  /**
   * Contract A (xmitInPlace): a frame in this VM's guest memory at [off, off + len), in pages made
   * known by mapTxPages; XMIT_BUSY / XMIT_COPIED / XMIT_IN_PLACE as NetvscDevice.xmitInPlace, and
   * after XMIT_IN_PLACE the bytes stay untouched until onTxDone(token). Used by the TAP bridge.
   */
  xmitInPlace(off: number, len: number, req: StackTxRequest, more: boolean, token: number): number;
  /** An XMIT_IN_PLACE frame's bytes are free again (its completion, or a detach with it in flight). */
  onTxDone: (token: number) => void;
  /** Describes guest pages to the host for in-place frames (a GPADL); the handle for unmapTxPages. */
  mapTxPages(pfns: readonly number[]): Promise<number>;
  unmapTxPages(handle: number): Promise<void>;
  /** Contract B: RSC packets come to onFrame as fragment lists (RX_F_FRAGS) instead of reassembled. */
  setRxFragments(on: boolean): void;
  /** Queues one frame for transmit (copied before return); false = no room now, frame untouched. */
  transmit(u8: Uint8Array, off: number, len: number, more: boolean, meta?: TxMeta | null): boolean;
  /** Offloads negotiated now (they may change across -G/-L/MTU re-attaches). */
  offloads(): NicOffloads;
  /** Sends what a run of `more` frames left batched. */
  flushTx(): void;
  /** Frames the device received. */
  onFrame: LabFrameHandler;
  info(): NicInfo;
  /** What ethtool -g/-l/-k/-x show (the driver's own view). */
  ethtool(): EthtoolView;
  /** Device counters under their Linux `ethtool -S` names, per-queue ones as `tx_queue_0_packets`. */
  stats(): Record<string, number>;
  /** ethtool -G: receive and send section counts (detach, then attach). */
  setRing(rxSections: number, txSections: number): Promise<void>;
  setMtu(mtu: number): Promise<void>;
  /** ethtool -L combined. */
  setChannels(queues: number): Promise<void>;
  close(): Promise<void>;
  /** The VM's netdev notifier: a VF registered, changed, is going down or went away (§6.8). */
  vfEvent(vf: VfNetdev, ev: VfNetdevEvent): void;
  /** The failover's view: data path, the enslaved VF's serial, recent events. */
  vfState(): GuestVfState;
}

/** The guest driver's VF failover state (docs/vf.md "What a user sees"). */
export interface GuestVfState {
  /** synthetic | switchingToVf | onVf | switchingToSynthetic (Linux's data_path_is_vf is onVf). */
  readonly dataPath: 'synthetic' | 'switchingToVf' | 'onVf' | 'switchingToSynthetic';
  /** Serial of the enslaved VF, null when none. */
  readonly serial: number | null;
  /** The last events, oldest first. */
  readonly events: readonly VfUserEvent[];
}
