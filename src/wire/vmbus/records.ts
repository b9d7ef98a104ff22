/**
 * wire.jsonl record codecs for the VMBus layer (protocol.md §2). Standalone structs decode only
 * the bytes they own: a header whose offset8/len8 count a following NVSP message does not need it.
 */
import { bytesToHex, dataView, malformed, need } from '../bytes.js';
import { type Layout, decodeLayout, encodeLayout } from '../layout/struct.js';
import { type MutableObject, RECORD, getBytes, getList, getNum, getObj } from '../layout/value.js';
import type { DecodeOptions, RecordCodec } from '../records/codec.js';
import {
  hvPageBuffer,
  hvRingBuffer,
  vmaddRemoveTransferPageSet,
  vmadditionalData,
  vmbusFlatPacketHeader,
  vmdataGpaDirect,
  vmestablishGpadl,
  vmgpadlPacketHeader,
  vmpacketDescriptor,
  vmpacketHeader,
  vmteardownGpadl,
  vmtransferPageHeader,
  vmtransferPageRange,
} from './layouts.js';
import {
  GPA_RANGE_NAMES,
  type GpaNames,
  MPB_NAMES,
  decodeFixedList,
  decodeGpaRange,
  decodeGpaRanges,
  encodeFixedList,
  encodeGpaRange,
  gpaRangeSize,
} from './ranges.js';

function fixed(message: string, l: Layout): RecordCodec {
  return {
    layer: 'vmbus',
    message,
    decode: (u8) => decodeLayout(l, dataView(u8), 0, l.size, RECORD),
    encode(fields) {
      const out = new Uint8Array(l.size);
      encodeLayout(l, fields, dataView(out), 0, l.size, RECORD);
      return out;
    },
  };
}

/** A fixed header, then `countKey` entries under `listKey`: fixed-size or GPA ranges. */
function withList(
  message: string,
  head: Layout,
  countKey: string,
  listKey: string,
  entry: Layout | GpaNames,
): RecordCodec {
  const isGpa = !('fields' in entry);
  return {
    layer: 'vmbus',
    message,
    decode(u8) {
      const dv = dataView(u8);
      const out = decodeLayout(head, dv, 0, head.size, RECORD);
      const count = dv.getUint32(20, true);
      out[listKey] = isGpa
        ? decodeGpaRanges(dv, head.size, u8.length, count, entry, RECORD)[0]
        : decodeFixedList(dv, head.size, u8.length, count, entry, RECORD);
      return out;
    },
    encode(fields) {
      const list = getList(fields, listKey, message) ?? [];
      const size = isGpa
        ? list.reduce<number>((s, r, i) => s + gpaRangeSize(r, entry, RECORD, `${message}.${listKey}[${i}]`), head.size)
        : head.size + list.length * entry.size;
      const out = new Uint8Array(size);
      const dv = dataView(out);
      const headFields: MutableObject = {};
      for (const [k, v] of Object.entries(fields)) if (k !== listKey) headFields[k] = v;
      encodeLayout(head, headFields, dv, 0, head.size, RECORD);
      if (getNum(fields, countKey, message) !== list.length) {
        throw malformed(`${message}.${countKey} = ${getNum(fields, countKey, message)} but ${listKey} has ${list.length} entries`);
      }
      if (isGpa) list.reduce<number>((p, r, i) => encodeGpaRange(dv, p, r, entry, RECORD, `${message}.${listKey}[${i}]`), head.size);
      else encodeFixedList(dv, head.size, list, entry, RECORD, `${message}.${listKey}`);
      return out;
    },
  };
}

function standaloneGpa(message: string, names: GpaNames): RecordCodec {
  return {
    layer: 'vmbus',
    message,
    decode: (u8) => decodeGpaRange(dataView(u8), 0, u8.length, names, RECORD)[0],
    encode(fields) {
      const out = new Uint8Array(gpaRangeSize(fields, names, RECORD, message));
      encodeGpaRange(dataView(out), 0, fields, names, RECORD, message);
      return out;
    },
  };
}

/** One multi-PFN range given as an object, not a list (`vmbus_channel_packet_multipage_buffer`). */
const multipage: RecordCodec = {
  layer: 'vmbus',
  message: 'vmbus_channel_packet_multipage_buffer',
  decode(u8) {
    const dv = dataView(u8);
    const out = decodeLayout(vmbusFlatPacketHeader, dv, 0, 24, RECORD);
    out['range'] = decodeGpaRange(dv, 24, u8.length, MPB_NAMES, RECORD)[0];
    return out;
  },
  encode(fields) {
    const range = getObj(fields, 'range', this.message) ?? {};
    const out = new Uint8Array(24 + gpaRangeSize(range, MPB_NAMES, RECORD, 'range'));
    const dv = dataView(out);
    const { range: _r, ...head } = fields;
    encodeLayout(vmbusFlatPacketHeader, head, dv, 0, 24, RECORD);
    encodeGpaRange(dv, 24, range, MPB_NAMES, RECORD, 'range');
    return out;
  },
};

/** `struct vmadditional_data`: size = offsetof(data) + byte_cnt. */
const additionalData: RecordCodec = {
  layer: 'vmbus',
  message: 'vmadditional_data',
  decode(u8, opts: DecodeOptions) {
    const dv = dataView(u8);
    const out = decodeLayout(vmadditionalData, dv, 0, 32, RECORD);
    const n = dv.getUint32(28, true);
    if (!opts.partial || 32 + n <= u8.length) {
      need(32, n, u8.length, 'vmadditional_data.data (byte_cnt)');
      out['data'] = bytesToHex(u8.subarray(32, 32 + n));
    }
    return out;
  },
  encode(fields) {
    const data = getBytes(fields, 'data', 'vmadditional_data') ?? new Uint8Array(0);
    const out = new Uint8Array(32 + data.length);
    const { data: _d, ...head } = fields;
    encodeLayout(vmadditionalData, head, dataView(out), 0, 32, RECORD);
    out.set(data, 32);
    if (getNum(fields, 'byte_cnt', 'vmadditional_data') !== data.length) {
      throw malformed(`vmadditional_data.byte_cnt = ${getNum(fields, 'byte_cnt', 'x')} but data has ${data.length} bytes`);
    }
    return out;
  },
};

export const vmbusCodecs: readonly RecordCodec[] = [
  fixed('vmpacket_descriptor', vmpacketDescriptor),
  fixed('vmpacket_header', vmpacketHeader),
  withList('vmtransfer_page_packet_header', vmtransferPageHeader, 'range_cnt', 'ranges', vmtransferPageRange),
  fixed('vmadd_remove_transfer_page_set', vmaddRemoveTransferPageSet),
  fixed('vmgpadl_packet_header', vmgpadlPacketHeader),
  withList('vmestablish_gpadl', vmestablishGpadl, 'range_cnt', 'range', GPA_RANGE_NAMES),
  fixed('vmteardown_gpadl', vmteardownGpadl),
  withList('vmdata_gpa_direct', vmdataGpaDirect, 'range_cnt', 'range', GPA_RANGE_NAMES),
  withList('vmbus_channel_packet_page_buffer', vmbusFlatPacketHeader, 'rangecount', 'range', hvPageBuffer),
  multipage,
  withList('vmbus_packet_mpb_array', vmbusFlatPacketHeader, 'rangecount', 'range', MPB_NAMES),
  additionalData,
  fixed('hv_page_buffer', hvPageBuffer),
  standaloneGpa('hv_mpb_array', MPB_NAMES),
  standaloneGpa('gpa_range', GPA_RANGE_NAMES),
  fixed('hv_ring_buffer', hvRingBuffer),
];

