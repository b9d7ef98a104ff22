/**
 * The app port of a VM NIC: two SharedArrayBuffer SPSC frame rings (io's FrameRing, the same
 * rings a TAP interface uses) between the thread that owns the lab and the VM worker. Each end is
 * an io TapPort, so frames carry the virtio-net header as FrameMeta and the VM side plugs into
 * the NIC exactly where a TAP port does (VmNic.attachPort). Only setup crosses postMessage.
 */
import type { FrameHandler, FrameMeta, FramePort } from '../core/index.js';
import { createFrameRingBuffer, TapPort, VNET_HDR_LEN } from '../io/index.js';
import { Doorbell } from '../vmbus/index.js';

/** Both rings of one app port (structured-cloneable, shared not copied). */
export interface AppPortShared {
  readonly name: string;
  /** Frames the app hands the NIC to transmit (app → VM). */
  readonly toVm: SharedArrayBuffer;
  /** Frames the NIC received (VM → app). */
  readonly fromVm: SharedArrayBuffer;
}

/** Default ring data size: 4 MiB holds ~2700 full 1514-byte frames in each direction. */
export const APP_PORT_RING_BYTES = 1 << 22;

export function newAppPortShared(name: string, ringBytes = APP_PORT_RING_BYTES): AppPortShared {
  return { name, toVm: createFrameRingBuffer(ringBytes), fromVm: createFrameRingBuffer(ringBytes) };
}

/**
 * The app's end: tryWrite() queues a frame for the NIC to send, poll() hands received frames.
 * The VM's loop sleeps on its doorbell, not on the ring, so each write also rings the doorbell
 * (two atomics; a futex wake only when the VM sleeps).
 */
class AppPort implements FramePort {
  private readonly inner: TapPort;

  constructor(
    s: AppPortShared,
    private readonly vmDoorbell: Doorbell,
  ) {
    this.inner = new TapPort({ name: s.name, rx: s.fromVm, tx: s.toVm, vnetHdrLen: VNET_HDR_LEN });
  }

  tryWrite(bytes: Uint8Array, off: number, len: number, meta: FrameMeta): boolean {
    if (!this.inner.tryWrite(bytes, off, len, meta)) return false;
    this.vmDoorbell.ring();
    return true;
  }

  poll(handler: FrameHandler, budget: number): number {
    return this.inner.poll(handler, budget);
  }

  waitReadable(timeoutMs: number): boolean {
    return this.inner.waitReadable(timeoutMs);
  }

  readable(timeoutMs: number): Promise<boolean> {
    return this.inner.readable(timeoutMs);
  }
}

/** The app's end of a VM NIC's port; `vmSignals` is the VM's signal page (its doorbell lives there). */
export function appEnd(s: AppPortShared, vmSignals: SharedArrayBuffer): FramePort {
  return new AppPort(s, Doorbell.guest(vmSignals));
}

/** The VM worker's end: poll() yields frames to transmit, tryWrite() delivers received frames. */
export function vmEnd(s: AppPortShared): FramePort {
  return new TapPort({ name: s.name, rx: s.toVm, tx: s.fromVm, vnetHdrLen: VNET_HDR_LEN });
}
