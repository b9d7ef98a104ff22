// packet: pure algorithms over frame bytes: the Internet checksum, Toeplitz and the host's RSS
// hash, flow classification and the guest's TX hash, LSO segmentation, GRO, frame builders.
// Imports core and wire only. Nothing here allocates per packet: callers own the buffers,
// scratch structs (FlowKey, RssResult) and tables (ToeplitzTables). Start with docs/packet.md.
export * from './checksum.js';
export { checksumArena } from './checksum-simd.js';
export * from './toeplitz.js';
export * from './hash-input.js';
export * from './flow-key.js';
export * from './rss.js';
export * from './tx-hash.js';
export * from './frames.js';
export * from './segment.js';
export * from './gro.js';
export { ALIGN_MIN_LEN, alignGap, copyBytes } from './copy.js';
