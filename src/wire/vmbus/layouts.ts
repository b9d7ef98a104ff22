/**
 * VMBus packet layouts (protocol.md §2.2, §2.6–2.10, §2.12). All packed, little-endian.
 */
import { type Layout, layout, struct, u16, u32, u64, u8 } from '../layout/struct.js';

/** `struct vmpacket_descriptor`: offset8/len8 count 8-byte units from the descriptor start (§2.6). */
export const vmpacketDescriptor: Layout = layout('vmpacket_descriptor', 16, [
  u16('type', 0),
  u16('offset8', 2),
  u16('len8', 4),
  u16('flags', 6),
  u64('trans_id', 8),
]);

export const vmpacketHeader: Layout = layout('vmpacket_header', 20, [
  u32('prev_pkt_start_offset', 0),
  struct('descriptor', 4, vmpacketDescriptor),
]);

/** Fixed part of `struct vmtransfer_page_packet_header`; `ranges` (8 B each) follow at 24 (§2.9). */
export const vmtransferPageHeader: Layout = layout('vmtransfer_page_packet_header', 24, [
  struct('d', 0, vmpacketDescriptor),
  u16('xfer_pageset_id', 16),
  u8('sender_owns_set', 18),
  u8('reserved', 19),
  u32('range_cnt', 20),
]);

export const vmtransferPageRange: Layout = layout('vmtransfer_page_range', 8, [u32('byte_count', 0), u32('byte_offset', 4)]);

export const vmaddRemoveTransferPageSet: Layout = layout('vmadd_remove_transfer_page_set', 24, [
  struct('d', 0, vmpacketDescriptor),
  u32('gpadl', 16),
  u16('xfer_pageset_id', 20),
  u16('reserved', 22),
]);

export const vmgpadlPacketHeader: Layout = layout('vmgpadl_packet_header', 24, [
  struct('d', 0, vmpacketDescriptor),
  u32('gpadl', 16),
  u32('reserved', 20),
]);

export const vmteardownGpadl: Layout = layout('vmteardown_gpadl', 24, [
  struct('d', 0, vmpacketDescriptor),
  u32('gpadl', 16),
  u32('reserved', 20),
]);

/** Fixed part of `struct vmestablish_gpadl`; gpa_range entries follow at 24. */
export const vmestablishGpadl: Layout = layout('vmestablish_gpadl', 24, [
  struct('d', 0, vmpacketDescriptor),
  u32('gpadl', 16),
  u32('range_cnt', 20),
]);

/** Fixed part of `struct vmdata_gpa_direct`; gpa_range entries follow at 24 (§2.10). */
export const vmdataGpaDirect: Layout = layout('vmdata_gpa_direct', 24, [
  struct('d', 0, vmpacketDescriptor),
  u32('reserved', 16),
  u32('range_cnt', 20),
]);

/**
 * The header the kernel's page-buffer, multipage and mpb_array packets share: the descriptor
 * flattened under other names (dataoffset8, length8, transactionid), then reserved and rangecount.
 */
export const vmbusFlatPacketHeader: Layout = layout('vmbus_packet_mpb_array', 24, [
  u16('type', 0),
  u16('dataoffset8', 2),
  u16('length8', 4),
  u16('flags', 6),
  u64('transactionid', 8),
  u32('reserved', 16),
  u32('rangecount', 20),
]);

export const hvPageBuffer: Layout = layout('hv_page_buffer', 16, [u32('len', 0), u32('offset', 4), u64('pfn', 8)]);

/** Fixed part of `struct vmadditional_data`; `byte_cnt` bytes of data follow at 32. */
export const vmadditionalData: Layout = layout('vmadditional_data', 32, [
  struct('d', 0, vmpacketDescriptor),
  u64('total_bytes', 16),
  u32('offset', 24),
  u32('byte_cnt', 28),
]);

/** `struct hv_ring_buffer`: the 4096-byte ring header page; ring data starts at 4096 (§2.2). */
export const hvRingBuffer: Layout = layout('hv_ring_buffer', 4096, [
  u32('write_index', 0),
  u32('read_index', 4),
  u32('interrupt_mask', 8),
  u32('pending_send_sz', 12),
  {
    kind: 'bits',
    name: 'feature_bits',
    at: 64,
    bytes: 4,
    views: [{ name: null, bits: [{ name: 'feat_pending_send_sz', shift: 0, width: 1 }] }],
    valueKey: 'value',
  },
]);

/** Field offsets of the ring header, for the ring code (§2.2). */
export const RING_HEADER = Object.freeze({
  writeIndex: 0,
  readIndex: 4,
  interruptMask: 8,
  pendingSendSz: 12,
  featureBits: 64,
  dataStart: 4096,
} as const);
