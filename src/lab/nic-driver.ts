/**
 * The seam between the lab and the guest driver: what a VM worker needs of one netvsc device.
 * guest-nic.ts adapts NetvscDevice to it, so the VM side of the lab does not change when the
 * driver's API moves.
 */
import type { EthtoolView, RxMeta, TxMeta } from '../guest/index.js';

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

export interface GuestNicDriver {
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
}
