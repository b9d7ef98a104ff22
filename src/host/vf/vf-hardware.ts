/**
 * What the host needs from an emulated SR-IOV virtual function (protocol.md §6.8): a PCI device of
 * the VM with the synthetic NIC's MAC, a serial (the slot name the guest matches on) and its own
 * queues straight to the virtual switch — not VMBus. The lab implements it over SharedArrayBuffer
 * frame rings (src/lab/vf/); the host only sees this interface, so host and lab stay layered.
 */

/**
 * One frame the guest's VF driver queued, as the VF puts it on the wire; bytes[off, off+len) is
 * valid only during the call. `vlanTci` is the 802.1Q PPI value (pri/cfi/id, §5.5) of the tag the
 * VF inserted, or -1 for an untagged frame.
 */
export type VfFrameHandler = (bytes: Uint8Array, off: number, len: number, vlanTci: number) => void;

/** Frames that were in the VF's queues when it vanished (surprise removal). */
export interface VfLoss {
  /** Queued by the guest for the wire, never read by the host. */
  readonly lostTx: number;
  /** Written by the host for the guest, never read by the guest. */
  readonly lostRx: number;
}

export interface VfHardware {
  readonly serial: number;
  /** The same MAC as the synthetic NIC it belongs to (6 bytes). */
  readonly mac: Uint8Array;
  /** True once the device is visible in the VM (hot-added) and until it is unplugged. */
  readonly plugged: boolean;
  readonly linkUp: boolean;
  /** Hot-adds the device to the VM. */
  plug(): void;
  /** Carrier of the VF's port, seen by the guest's VF driver. */
  setLink(up: boolean): void;
  /** Hands up to `budget` frames the guest queued for the wire to fn; returns how many. */
  pollTx(fn: VfFrameHandler, budget: number): number;
  /** One frame from the switch into a VF receive queue (the VF's own RSS picks it); false = queue full. */
  deliverRx(bytes: Uint8Array, off: number, len: number, vlanTci: number): boolean;
  /** Planned removal: asks the guest to let go of the device (a PCI eject request). */
  requestEject(): void;
  /** The guest acknowledged the eject request: its driver no longer touches the queues. */
  readonly ejectAcked: boolean;
  /** Takes the device out of the VM; what was still queued is discarded and returned. */
  unplug(): VfLoss;
  /** The device's own counters (e.g. its TX offload engine), for `stats()`; optional. */
  deviceCounters?(): Readonly<Record<string, number>>;
}
