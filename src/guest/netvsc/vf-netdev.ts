/**
 * The guest's view of an SR-IOV VF net device (protocol.md §6.8): a device of its own, found on the
 * VM's PCI bus, with its own queues (not VMBus), a serial (the PCI slot name Hyper-V gives it) and
 * the synthetic NIC's MAC. The VF driver behind it lives outside the netvsc driver (the lab's
 * emulated VF, src/lab/vf/); netvsc only enslaves it through this interface.
 */

/**
 * One frame from a VF receive queue; u8[off, off+len) is valid only during the call. `vlan` is
 * the 802.1Q PPI value (pri/cfi/id, §5.5) of a tag the VF stripped, or -1 for an untagged frame.
 */
export type VfRxHandler = (u8: Uint8Array, off: number, len: number, queue: number, vlan: number) => void;

/** The netdev notifier events netvsc reacts to (§6.8 register / up-down-change / going-down / unregister). */
export type VfNetdevEvent = 'register' | 'change' | 'goingDown' | 'unregister';

export interface VfNetdev {
  readonly name: string;
  /** The PCI slot name parsed as a decimal u32: Hyper-V names slots by VF serial (§6.8). */
  readonly serial: number;
  readonly permanentMac: Uint8Array;
  /** Present and not being ejected. */
  readonly running: boolean;
  readonly carrier: boolean;
  /** Active queues (the VF's own `ethtool -L`). */
  readonly queueCount: number;
  /**
   * The master's receive hook (Linux's rx_handler): frames the VF receives go here instead of the
   * VF's own consumer while it is set.
   */
  rxHandler: VfRxHandler | null;
  /** While true the VF holds received frames (the master is switching to it: order, §3.10). */
  rxPaused: boolean;
  /**
   * Queues one frame on `queue` (mod queueCount). False when the queue is full: nothing taken.
   * `csum` / `lso` are the checksum and LSOv2 PPI values the stack asked for (0 = none, §5.5): the
   * VF's hardware fills the checksum / cuts the super-frame, as a real VF with TSO does. `vlan` is
   * the 802.1Q PPI value of a tag to insert (-1 = none): the VF tags the frame (every segment of a
   * super-frame) on the wire, as a VF with VLAN insertion (CTAG TX offload) does.
   */
  transmit(frame: Uint8Array, off: number, len: number, queue: number, csum: number, lso: number, vlan: number): boolean;
  /** Largest frame the VF can carry. */
  readonly maxFrameLen: number;
  /** Hands received frames to rxHandler (or the VF's own consumer); returns how many. */
  pollRx(budget: number): number;
  /** The master let go of the device (acknowledges a planned removal's eject request). */
  release(): void;
}
