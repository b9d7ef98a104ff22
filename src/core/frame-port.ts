/**
 * FramePort: what a NIC backend (a TAP interface, a loopback, a capture tee) offers the VM that
 * owns the NIC. Frames are Ethernet frames without FCS. Each frame carries offload metadata with
 * the meaning of the virtio-net header fields, because that is what Linux hands a TAP user; the
 * lab layer maps it to and from RNDIS per-packet info. Data path: no call allocates per frame.
 */

/** virtio-net header flag: the checksum at csumStart + csumOffset is partial and must be completed. */
export const FRAME_F_NEEDS_CSUM = 0x01;
/** virtio-net header flag: the checksums of this frame were already validated. */
export const FRAME_F_DATA_VALID = 0x02;

/** virtio-net gso_type values (the ECN bit may be or-ed in). */
export const FRAME_GSO_NONE = 0;
export const FRAME_GSO_TCPV4 = 1;
export const FRAME_GSO_UDP = 3;
export const FRAME_GSO_TCPV6 = 4;
export const FRAME_GSO_UDP_L4 = 5;
export const FRAME_GSO_ECN = 0x80;

/**
 * Per-frame offload metadata, field for field the virtio-net header. One instance is reused for
 * every frame: a handler that keeps values must copy them.
 */
export interface FrameMeta {
  /** FRAME_F_* bits. */
  flags: number;
  /** FRAME_GSO_* value; NONE for an ordinary frame, otherwise a super-frame to segment. */
  gsoType: number;
  /** Bytes of Ethernet + IP + L4 headers in a GSO super-frame (a hint; may be 0). */
  hdrLen: number;
  /** Payload bytes per segment of a GSO super-frame (the MSS for TCP). */
  gsoSize: number;
  /** With NEEDS_CSUM: where checksumming starts, from the start of the Ethernet frame. */
  csumStart: number;
  /** With NEEDS_CSUM: where the checksum field is, from csumStart. */
  csumOffset: number;
}

/** A fresh all-zero FrameMeta: an ordinary, fully checksummed frame. */
export function newFrameMeta(): FrameMeta {
  return { flags: 0, gsoType: FRAME_GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
}

/** Sets meta to "ordinary frame" without allocating. */
export function clearFrameMeta(meta: FrameMeta): void {
  meta.flags = 0;
  meta.gsoType = FRAME_GSO_NONE;
  meta.hdrLen = 0;
  meta.gsoSize = 0;
  meta.csumStart = 0;
  meta.csumOffset = 0;
}

/**
 * Receives one frame. `bytes[off, off+len)` and `meta` are valid only during the call (they are
 * views into a ring that is reused as soon as the handler returns).
 */
export type FrameHandler = (bytes: Uint8Array, off: number, len: number, meta: FrameMeta) => void;

export interface FramePort {
  /**
   * Queues one frame toward the outside. Returns false when there is no room right now (an
   * expected condition: count it, retry after the next poll); the bytes are copied before return.
   */
  tryWrite(bytes: Uint8Array, off: number, len: number, meta: FrameMeta): boolean;
  /** Hands up to `budget` frames from the outside to `handler`; returns how many it handed. */
  poll(handler: FrameHandler, budget: number): number;
  /** Blocks (worker threads only) until poll() may have frames or timeoutMs passes; true if readable. */
  waitReadable(timeoutMs: number): boolean;
  /** The same without blocking the event loop. */
  readable(timeoutMs: number): Promise<boolean>;
}
