import { copyBytes } from '../../packet/index.js';

/** TxMeta.flags: which per-packet info to attach (protocol.md §5.4 order: hash, VLAN, LSO or checksum). */
export const TX_F_HASH = 1;
export const TX_F_VLAN = 2;
export const TX_F_CSUM = 4;
export const TX_F_LSO = 8;

/** Per-frame transmit metadata; the values are the PPI u32s (packCsumTx, packVlan, packLsoV2Tx). */
export interface TxMeta {
  flags: number;
  hash: number;
  vlan: number;
  csum: number;
  lso: number;
}

export function newTxMeta(): TxMeta {
  return { flags: 0, hash: 0, vlan: 0, csum: 0, lso: 0 };
}

/** RxMeta.flags: which PPIs came with the frame (§6.3). */
export const RX_F_CSUM = 1;
export const RX_F_VLAN = 2;
export const RX_F_HASH = 4;
export const RX_F_RSC = 8;
/**
 * The frame is a fragment list (setRxFragments(true), an RSC packet): fragment i is
 * u8[fragOff[i], fragOff[i] + fragLen[i]) for i < fragments, in the receive buffer; `len` is the total
 * and `off` is fragOff[0]. Without it the frame is contiguous, u8[off, off + len).
 */
export const RX_F_FRAGS = 16;

/**
 * Per-frame receive metadata, one instance per queue reused for every frame: a handler that keeps
 * values must copy them. For an RSC packet (§5.6) the first fragment's PPIs apply.
 */
export interface RxMeta {
  /** The channel's sub_channel_index (§6.3). */
  queue: number;
  flags: number;
  /** Receive checksum PPI value (CSUM_RX bits). */
  csum: number;
  /** 802.1Q PPI value (vlanId()/vlanPri()). */
  vlan: number;
  hash: number;
  /** RNDIS messages coalesced into this frame (1 unless RSC); with RX_F_FRAGS, the entries of fragOff/fragLen in use. */
  fragments: number;
  /** With RX_F_FRAGS: where each fragment starts in u8. Capacity NVSP_RSC_MAX on a queue's RSC meta, else 0. */
  fragOff: Int32Array;
  /** With RX_F_FRAGS: each fragment's length. */
  fragLen: Int32Array;
}

const NO_FRAGS = new Int32Array(0);

/** `fragCapacity`: room for a fragment list (a receive queue's RSC meta: NVSP_RSC_MAX); 0 shares an empty one. */
export function newRxMeta(queue: number, fragCapacity = 0): RxMeta {
  const fragOff = fragCapacity > 0 ? new Int32Array(fragCapacity) : NO_FRAGS;
  const fragLen = fragCapacity > 0 ? new Int32Array(fragCapacity) : NO_FRAGS;
  return { queue, flags: 0, csum: 0, vlan: 0, hash: 0, fragments: 1, fragOff, fragLen };
}

/**
 * Copies a received frame into out[at, at + len) and returns len: a fragment list (RX_F_FRAGS) is
 * gathered in order, a contiguous frame copied as one run. For a consumer that needs one run of
 * bytes now and then (a capture, a port without scatter-gather) on a device with fragments on;
 * `out` must have room for `len` (64 KB for an RSC packet). No allocation.
 */
export function gatherRx(u8: Uint8Array, off: number, len: number, meta: RxMeta, out: Uint8Array, at: number): number {
  if ((meta.flags & RX_F_FRAGS) === 0) {
    copyBytes(u8, off, out, at, len);
    return len;
  }
  let to = at;
  for (let i = 0; i < meta.fragments; i++) {
    const n = meta.fragLen[i]!;
    copyBytes(u8, meta.fragOff[i]!, out, to, n);
    to += n;
  }
  return to - at;
}

/** Receives one frame: `u8[off, off+len)` is valid only during the call (it is the receive buffer). */
export type ReceiveHandler = (u8: Uint8Array, off: number, len: number, meta: RxMeta) => void;
