/** wire.jsonl record codecs for NVSP (vectors README rule 2): `nvsp_message/<body>`. */
import { dataView, encodeNew } from '../bytes.js';
import { RECORD } from '../layout/value.js';
import type { RecordCodec } from '../records/codec.js';
import { decodeNvspBody, decodePdBatch, encodeNvspBody, encodePdBatch, nvspBodySize, pdBatchSize } from './codec.js';
import { NVSP_BODIES } from './layouts.js';

export const nvspCodecs: readonly RecordCodec[] = [
  ...NVSP_BODIES.map(
    (b): RecordCodec => ({
      layer: 'nvsp',
      message: `nvsp_message/${b.body}`,
      decode: (u8, opts) => decodeNvspBody(b, dataView(u8), 0, u8.length, RECORD, opts.partial),
      encode: (fields) => encodeNew(nvspBodySize(b, fields, RECORD), (dv) => encodeNvspBody(b, fields, dv, 0, RECORD)),
    }),
  ),
  {
    layer: 'nvsp',
    message: 'nvsp_6_pd_batch_msg',
    decode: (u8) => decodePdBatch(dataView(u8), 0, u8.length, RECORD),
    encode: (fields) => encodeNew(pdBatchSize(fields, RECORD), (dv) => encodePdBatch(fields, dv, 0, RECORD)),
  },
];
