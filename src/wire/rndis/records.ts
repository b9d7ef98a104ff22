/** wire.jsonl record codecs for RNDIS (vectors README rule 3): `rndis_message/<body>[+<info struct>]`. */
import { dataView, encodeNew, malformed } from '../bytes.js';
import { RECORD } from '../layout/value.js';
import type { RecordCodec } from '../records/codec.js';
import { type InfoHint, decodeRndisBody, encodeRndis, rndisSize } from './codec.js';
import { RNDIS_BODIES } from './layouts.js';

const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  rndis_query_request: ['', '+ndis_offload', '+ndis_recv_scale_cap'],
  rndis_query_complete: ['', '+ndis_offload', '+ndis_recv_scale_cap'],
  rndis_set_request: ['', '+ndis_offload_params', '+ndis_recv_scale_param', '+rndis_config_parameter_info'],
  rndis_packet: ['', '+PPIs'],
};

const HINT: Readonly<Record<string, InfoHint>> = { '+ndis_offload': 'hwcaps', '+ndis_recv_scale_cap': 'rsscap' };

export const rndisCodecs: readonly RecordCodec[] = RNDIS_BODIES.flatMap((b) =>
  (SUFFIXES[b.body] ?? ['']).map(
    (suffix): RecordCodec => ({
      layer: 'rndis',
      message: `rndis_message/${b.body}${suffix}`,
      decode(u8, opts) {
        const dv = dataView(u8);
        if (u8.length >= 8 && dv.getUint32(0, true) !== b.type) {
          throw malformed(`ndis_msg_type 0x${dv.getUint32(0, true).toString(16)} is not ${b.body} (0x${b.type.toString(16)})`);
        }
        const msgLen = u8.length >= 8 ? dv.getUint32(4, true) : 0;
        const info = HINT[suffix];
        return decodeRndisBody(b, dv, 0, u8.length, msgLen, RECORD, { partial: opts.partial, ...(opts.hints ? { hints: opts.hints } : {}), ...(info ? { info } : {}) });
      },
      encode: (fields) => encodeNew(rndisSize(fields, RECORD), (dv) => encodeRndis(fields, dv, 0, RECORD)),
    }),
  ),
);
