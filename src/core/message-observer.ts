/**
 * An optional observer of the NVSP and RNDIS messages one side of a NIC sends and receives
 * (issue 7: the message trace). Guest and host expose the same shape, so one trace writer serves
 * both. Called on the data path: the bytes are valid only during the call, the observer copies
 * what it keeps and must not allocate; a null observer costs one comparison.
 */

/** The observing side sent the message. */
export const MSG_DIR_TX = 0;
/** The observing side received it. */
export const MSG_DIR_RX = 1;

/** A whole VMBus packet: descriptor (and transfer-page or GPA header) plus its NVSP message. */
export const MSG_LAYER_VMBUS = 0;
/** An NVSP message alone (what a sender hands its channel; the channel adds the descriptor). */
export const MSG_LAYER_NVSP = 1;
/** An RNDIS message: whole for control, header + per-packet info only for a data packet. */
export const MSG_LAYER_RNDIS = 2;

export interface MessageObserver {
  message(dir: number, queue: number, layer: number, bytes: Uint8Array, off: number, len: number): void;
}
