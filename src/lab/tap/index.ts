// lab/tap: VM NICs as Linux TAP interfaces in network namespaces (issue 7): the VM-side bridge
// with the virtio-net header ↔ RNDIS PPI mapping, guest TX/RX capture, and `up`/`down`.
// Start at up.ts, then attach.ts and tap-bridge.ts. docs/tap.md has the whole picture.
export { attachNicTap, NicTap, requireTap, type NicTapOptions } from './attach.js';
export { tapUp, tapDown, MAX_UP_VMS, type TapLab, type TapUpOptions, type TapVm } from './up.js';
export type { TapBridgeCounters, TapBridgeOptions } from './tap-bridge.js';
export { completePartialChecksum, rxMetaToVnet, vnetToTxMeta } from './offload-map.js';
