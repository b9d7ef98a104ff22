/** wire.jsonl record codecs for the NDIS layer. */
import { dataView, encodeNew } from '../bytes.js';
import { type Layout, decodeLayout, encodeLayout } from '../layout/struct.js';
import { RECORD } from '../layout/value.js';
import type { RecordCodec } from '../records/codec.js';
import { decodeRssParamsWithTables, decodeSized, encodeRssParamsWithTables, encodeSized, rssParamsSize, sizedLength } from './codec.js';
import { ndisObjHeader, ndisObjectHeader, ndisOffload, ndisOffloadParams, ndisRecvScaleCap, ndisRecvScaleParam } from './layouts.js';

function fixed(l: Layout): RecordCodec {
  return {
    layer: 'ndis',
    message: l.name,
    decode: (u8) => decodeLayout(l, dataView(u8), 0, l.size, RECORD),
    encode: (fields) => encodeNew(l.size, (dv) => encodeLayout(l, fields, dv, 0, l.size, RECORD)),
  };
}

function sized(l: Layout): RecordCodec {
  return {
    layer: 'ndis',
    message: l.name,
    decode: (u8) => decodeSized(l, dataView(u8), 0, u8.length, RECORD),
    encode(fields) {
      const size = sizedLength(l, fields, RECORD);
      return encodeNew(size, (dv) => encodeSized(l, fields, dv, 0, size, RECORD));
    },
  };
}

export const ndisCodecs: readonly RecordCodec[] = [
  sized(ndisOffloadParams),
  sized(ndisOffload),
  fixed(ndisRecvScaleCap),
  fixed(ndisRecvScaleParam),
  {
    layer: 'ndis',
    message: 'ndis_recv_scale_param+itab+key',
    decode: (u8) => decodeRssParamsWithTables(dataView(u8), 0, u8.length, RECORD),
    encode: (fields) => encodeNew(rssParamsSize(fields, RECORD), (dv) => encodeRssParamsWithTables(fields, dv, 0, RECORD)),
  },
  fixed(ndisObjectHeader),
  fixed(ndisObjHeader),
];
