import { PAGE_SIZE } from './guest-memory.js';
import { newHostDoorbellSab, SIGNAL_SAB_BYTES } from './signal.js';

/**
 * Everything the host worker and a VM worker share for one VM: its memory and its signal page,
 * plus the host worker's doorbell (one per host, shared by all VMs). Handed over in workerData;
 * SharedArrayBuffers are shared, not copied, by postMessage.
 */
export interface VmShared {
  readonly memory: SharedArrayBuffer;
  readonly signals: SharedArrayBuffer;
  readonly hostDoorbell: SharedArrayBuffer;
}

/** Allocates the shared memory of one VM of `pages` 4 KiB pages; pass hostDoorbell to share the host's. */
export function newVmShared(pages: number, hostDoorbell: SharedArrayBuffer = newHostDoorbellSab()): VmShared {
  return {
    memory: new SharedArrayBuffer(pages * PAGE_SIZE),
    signals: new SharedArrayBuffer(SIGNAL_SAB_BYTES),
    hostDoorbell,
  };
}
