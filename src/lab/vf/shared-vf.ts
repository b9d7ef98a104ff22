/**
 * The emulated SR-IOV VF as hardware (protocol.md §6.8): one control block and, per queue, two
 * SPSC frame rings in SharedArrayBuffers (io/tap/frame-ring.ts) — TX from the guest's VF driver
 * to the host's switch port, RX the other way. No VMBus: the VF has its own queues. The spec is
 * structured-cloneable, so the host end and the guest end may live in different workers; the
 * control words (present, link, eject request/ack, active queues) are read with Atomics.
 */
import { ConfigError } from '../../core/index.js';
import { createFrameRingBuffer } from '../../io/index.js';
import { parseMac } from '../../host/index.js';

/**
 * Control words. TxBusy/RxBusy are the guest's "inside a ring operation" marks: the host, after
 * clearing Present on a surprise removal, waits for both to drop to 0 before it counts what is left
 * in the rings, so a guest in another thread can neither slip a frame in after the count (lost
 * uncounted) nor read one the host counted as lost (counted twice).
 */
export const VfCtl = { Present: 0, Link: 1, EjectRequest: 2, EjectAck: 3, Queues: 4, TxBusy: 5, RxBusy: 6 } as const;
const CTL_WORDS = 16;

export interface SharedVfSpec {
  readonly serial: number;
  readonly mac: Uint8Array;
  readonly maxQueues: number;
  readonly maxFrameLen: number;
  readonly ctl: SharedArrayBuffer;
  /** Guest → host, one per queue. */
  readonly tx: readonly SharedArrayBuffer[];
  /** Host → guest, one per queue. */
  readonly rx: readonly SharedArrayBuffer[];
}

export interface SharedVfOptions {
  readonly serial: number;
  readonly mac: string;
  /** Queues the VF has (its `ethtool -L` maximum); default 4. */
  readonly maxQueues?: number;
  /** Queues active at start; default maxQueues. */
  readonly queues?: number;
  /** Bytes per ring (a power of two ≥ 4096); default 256 KiB. */
  readonly ringBytes?: number;
  /** Largest frame; default 9018 (jumbo + VLAN, like most VFs). */
  readonly maxFrameLen?: number;
}

/** A new VF: not plugged, link up. */
export function newSharedVf(o: SharedVfOptions): SharedVfSpec {
  const maxQueues = o.maxQueues ?? 4;
  if (!Number.isInteger(maxQueues) || maxQueues < 1 || maxQueues > 64) throw new ConfigError('BAD_CONFIG', `VF maxQueues ${maxQueues} not in 1..64`);
  const queues = o.queues ?? maxQueues;
  if (!Number.isInteger(queues) || queues < 1 || queues > maxQueues) throw new ConfigError('BAD_CONFIG', `VF queues ${queues} not in 1..${maxQueues}`);
  const ringBytes = o.ringBytes ?? 1 << 18;
  const ctl = new SharedArrayBuffer(CTL_WORDS * 4);
  const w = new Int32Array(ctl);
  w[VfCtl.Link] = 1;
  w[VfCtl.Queues] = queues;
  return {
    serial: o.serial,
    mac: parseMac(o.mac),
    maxQueues,
    maxFrameLen: o.maxFrameLen ?? 9018,
    ctl,
    tx: Array.from({ length: maxQueues }, () => createFrameRingBuffer(ringBytes)),
    rx: Array.from({ length: maxQueues }, () => createFrameRingBuffer(ringBytes)),
  };
}

/**
 * Each TX ring record starts with a descriptor, as a NIC's TX descriptor carries offload requests:
 * u32 checksum PPI value, u32 LSOv2 PPI value (0 = none; protocol.md §5.5), u32 = 1 + the 802.1Q
 * PPI value of a tag to insert (0 = send untagged), u32 reserved; little-endian. 16 bytes keep the
 * frame that follows 8-aligned.
 */
export const VF_TX_DESC_BYTES = 16;

function writeDescU32(b: Uint8Array, at: number, v: number): void {
  for (let i = 0; i < 4; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
}

/** `vlanTci` is the 802.1Q PPI value (pri/cfi/id, §5.5) to insert, or -1 for none. */
export function writeTxDesc(b: Uint8Array, at: number, csum: number, lso: number, vlanTci: number): void {
  writeDescU32(b, at, csum);
  writeDescU32(b, at + 4, lso);
  writeDescU32(b, at + 8, vlanTci < 0 ? 0 : (vlanTci & 0xffff) + 1);
  writeDescU32(b, at + 12, 0);
}

/** The tag a TX descriptor asks the VF to insert (its PPI value), or -1. */
export function readTxDescVlan(b: Uint8Array, at: number): number {
  return readDescU32(b, at + 8) - 1;
}

export function readDescU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/**
 * Each RX record starts with a descriptor too: u32 = 1 + the 802.1Q PPI value of a tag the VF
 * stripped, or 0 for an untagged frame (a real VF's VLAN-stripping RX descriptor). 8 bytes keep
 * the frame 8-aligned.
 */
export const VF_RX_DESC_BYTES = 8;

export function writeRxDesc(b: Uint8Array, at: number, vlanTci: number): void {
  writeDescU32(b, at, vlanTci < 0 ? 0 : vlanTci + 1);
  writeDescU32(b, at + 4, 0);
}

/** The stripped tag's PPI value, or -1. */
export function readRxDescVlan(b: Uint8Array, at: number): number {
  return readDescU32(b, at) - 1;
}

/** The VF's receive-side spreading: a cheap hash of the IPv4/IPv6 addresses and ports (its own RSS). */
export function vfQueueFor(b: Uint8Array, off: number, len: number, queues: number): number {
  if (queues <= 1 || len < 38) return 0;
  let h = 0;
  for (let i = 26; i < 38; i++) h = (Math.imul(h, 31) + b[off + i]!) | 0;
  return (h >>> 0) % queues;
}
