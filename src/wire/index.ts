// wire: bytes <-> structures for every VMBus, NVSP, RNDIS, PPI and NDIS layout (protocol.md §2–5),
// plus Ethernet/IP views (net/). Imports only core. Two faces: plain-object parse/emit for the
// control path (parseNvsp, parseRndis, parseRssParams, ...) and bind-once views for the data path
// (VmbusDescriptorView, TransferPageView, GpaRangeIterator, RndisPacketView, walkPpis, writers).
// Start with docs/wire.md; records/registry.ts maps every wire.jsonl `message` to its codec.
export * from './net/index.js';
export * from './constants.js';
export { WireError } from '../core/index.js';
export { HV_PAGE_SIZE, hvPfnUp, hexToBytes, bytesToHex } from './bytes.js';
export type { Value, ValueObject } from './layout/value.js';
// control path
export * from './nvsp/messages.js';
export { NVSP_VERSIONS, nvspVersionName } from './nvsp/versions.js';
export { NVSP_MESSAGE_SIZE, NVSP_RECV_COMPLETION_SIZE } from './nvsp/layouts.js';
export * from './rndis/messages.js';
export { RNDIS_HEADER_SIZE, RNDIS_PACKET_HEADER_SIZE } from './rndis/layouts.js';
export * from './ndis/objects.js';
export * from './ppi/values.js';
export { PPI_HEADER_SIZE, PPI_SIZE } from './ppi/layouts.js';
export { RING_HEADER } from './vmbus/layouts.js';
// data path
export * from './vmbus/views.js';
export * from './rndis/packet-view.js';
export * from './rndis/packet-writer.js';
export * from './ppi/walker.js';
// wire.jsonl-shaped records (vectors, CLI)
export { decodeStruct, encodeStruct, encodePointed, codecFor, structNames, nvspMessageName, rndisMessageName, type DecodedRecord } from './records/registry.js';
export type { DecodeOptions, Layer, Pointed } from './records/codec.js';
export * from './vmbus/channel-messages.js';
