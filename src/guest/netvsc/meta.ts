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
  /** RNDIS messages coalesced into this frame (1 unless RSC). */
  fragments: number;
}

export function newRxMeta(queue: number): RxMeta {
  return { queue, flags: 0, csum: 0, vlan: 0, hash: 0, fragments: 1 };
}

/** Receives one frame: `u8[off, off+len)` is valid only during the call (it is the receive buffer). */
export type ReceiveHandler = (u8: Uint8Array, off: number, len: number, meta: RxMeta) => void;
