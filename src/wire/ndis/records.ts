/** wire.jsonl record codecs for the NDIS layer. */
import { dataView } from '../bytes.js';
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
    encode(fields) {
      const out = new Uint8Array(l.size);
      encodeLayout(l, fields, dataView(out), 0, l.size, RECORD);
      return out;
    },
  };
}

function sized(l: Layout): RecordCodec {
  return {
    layer: 'ndis',
    message: l.name,
    decode: (u8) => decodeSized(l, dataView(u8), 0, u8.length, RECORD),
    encode(fields) {
      const out = new Uint8Array(sizedLength(l, fields, RECORD));
      encodeSized(l, fields, dataView(out), 0, out.length, RECORD);
      return out;
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
    encode(fields) {
      const out = new Uint8Array(rssParamsSize(fields, RECORD));
      encodeRssParamsWithTables(fields, dataView(out), 0, RECORD);
      return out;
    },
  },
  fixed(ndisObjectHeader),
  fixed(ndisObjHeader),
];
