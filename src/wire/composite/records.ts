/**
 * Composite records (vectors README rule 9): a whole VMBus packet with the NVSP message inside it,
 * and beside it the bytes the packet points to (GPA ranges, a send-buffer section, receive-buffer
 * ranges), decoded as RNDIS. offset8/dataoffset8 say where the NVSP message starts and
 * len8/length8 how long the packet is, both in 8-byte units (protocol.md §2.6, §2.9, §2.10).
 */
import { bytesToHex, dataView, encodeNew, malformed, need } from '../bytes.js';
import { decodeLayout, encodeLayout, type Layout } from '../layout/struct.js';
import { type MutableObject, RECORD, type Value, type ValueObject, asObject, getBig, getList, getNum, getObj } from '../layout/value.js';
import { decodeNvspBody, encodeNvspBody } from '../nvsp/codec.js';
import { NVSP_BODIES, type NvspBody, recvCompMsg } from '../nvsp/layouts.js';
import type { DecodeOptions, Pointed, RecordCodec } from '../records/codec.js';
import { decodeRndis, encodeRndis, rndisSize } from '../rndis/codec.js';
import { rndisCodecs } from '../rndis/records.js';
import { vmbusFlatPacketHeader, vmpacketDescriptor, vmtransferPageHeader, vmtransferPageRange } from '../vmbus/layouts.js';
import { MPB_NAMES, decodeFixedList, decodeGpaRanges, encodeFixedList, encodeGpaRange, gpaRangeSize } from '../vmbus/ranges.js';

type Frame = 'mpb' | 'desc' | 'xfer';
type Inner = { readonly kind: 'nvsp'; readonly body: NvspBody } | { readonly kind: 'recvComp' } | { readonly kind: 'none' };

const POINTED_KEYS = new Set(['nvsp', 'rndis', 'section', 'described_bytes', 'range_bytes', 'prev_indices', 'desc']);

/** Decodes the RNDIS messages packed back to back in a send-buffer section, each `msg_len` long. */
function decodeSection(u8: Uint8Array): MutableObject[] {
  const dv = dataView(u8);
  const out: MutableObject[] = [];
  let p = 0;
  while (p < u8.length) {
    need(p, 8, u8.length, 'RNDIS header in send-buffer section');
    const len = dv.getUint32(p + 4, true);
    if (len < 8) throw malformed(`RNDIS msg_len ${len} in a send-buffer section does not advance`);
    need(p, len, u8.length, 'RNDIS message in send-buffer section');
    out.push(decodeRndis(dv, p, len, RECORD));
    p += len;
  }
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, x) => s + x.length, 0));
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}

function encodeOneRndis(v: Value, where: string): Uint8Array {
  const o = asObject(v, where);
  return encodeNew(rndisSize(o, RECORD), (dv) => encodeRndis(o, dv, 0, RECORD));
}

function composite(frame: Frame, inner: Inner, trailer: boolean): RecordCodec {
  const name =
    (frame === 'mpb' ? 'vmbus_packet_mpb_array' : frame === 'xfer' ? 'vmtransfer_page_packet_header' : 'vmpacket_descriptor') +
    (inner.kind === 'nvsp' ? `+nvsp_message/${inner.body.body}` : inner.kind === 'recvComp' ? '+recv_comp_msg' : '') +
    (trailer ? '+trailer' : '');
  const head: Layout = frame === 'mpb' ? vmbusFlatPacketHeader : frame === 'xfer' ? vmtransferPageHeader : vmpacketDescriptor;
  return {
    layer: 'composite',
    message: name,
    decode(u8, opts: DecodeOptions) {
      const dv = dataView(u8);
      need(0, head.size, u8.length, name);
      const offset8 = dv.getUint16(2, true);
      const len8 = dv.getUint16(4, true);
      const dataAt = offset8 * 8;
      const end = len8 * 8;
      if (dataAt < head.size || dataAt > end) throw malformed(`${name}: offset8 ${offset8} (byte ${dataAt}) is outside the header end ${head.size} .. len8 end ${end}`);
      need(0, end + (trailer ? 8 : 0), u8.length, `${name} of len8 ${len8}`);
      const out: MutableObject = {};
      const h = decodeLayout(head, dv, 0, head.size, RECORD);
      if (frame === 'desc') out['desc'] = h;
      else Object.assign(out, h);
      if (frame === 'mpb') out['range'] = decodeGpaRanges(dv, 24, dataAt, dv.getUint32(20, true), MPB_NAMES, RECORD)[0];
      if (frame === 'xfer') out['ranges'] = decodeFixedList(dv, 24, dataAt, dv.getUint32(20, true), vmtransferPageRange, RECORD);
      if (inner.kind === 'nvsp') out['nvsp'] = decodeNvspBody(inner.body, dv, dataAt, end - dataAt, RECORD);
      if (inner.kind === 'recvComp') out['nvsp'] = decodeLayout(recvCompMsg, dv, dataAt, recvCompMsg.size, RECORD);
      if (trailer) out['prev_indices'] = dv.getBigUint64(end, true).toString();
      decodePointed(frame, out, opts);
      return out;
    },
    encode(fields) {
      const hf: MutableObject = {};
      if (frame === 'desc') Object.assign(hf, getObj(fields, 'desc', name) ?? {});
      else for (const [k, v] of Object.entries(fields)) if (!POINTED_KEYS.has(k) && k !== 'range' && k !== 'ranges') hf[k] = v;
      const d = frame === 'xfer' ? (getObj(hf, 'd', name) ?? {}) : hf;
      const offset8 = getNum(d, frame === 'mpb' ? 'dataoffset8' : 'offset8', name);
      const len8 = getNum(d, frame === 'mpb' ? 'length8' : 'len8', name);
      const out = new Uint8Array(len8 * 8 + (trailer ? 8 : 0));
      const dv = dataView(out);
      const dataAt = offset8 * 8;
      need(head.size, 0, dataAt, `${name}: offset8 before the end of the header`);
      encodeLayout(head, hf, dv, 0, head.size, RECORD);
      if (frame === 'mpb') {
        const list = getList(fields, 'range', name) ?? [];
        let p = 24;
        list.forEach((r, i) => {
          need(p, gpaRangeSize(r, MPB_NAMES, RECORD, `range[${i}]`), dataAt, `range[${i}] before the NVSP message`);
          p = encodeGpaRange(dv, p, r, MPB_NAMES, RECORD, `range[${i}]`);
        });
      }
      if (frame === 'xfer') {
        const list = getList(fields, 'ranges', name) ?? [];
        need(24, 8 * list.length, dataAt, 'transfer-page ranges before the NVSP message');
        encodeFixedList(dv, 24, list, vmtransferPageRange, RECORD, 'ranges');
      }
      const nvsp = getObj(fields, 'nvsp', name) ?? {};
      if (inner.kind === 'nvsp') {
        const sub = new DataView(out.buffer, dataAt, len8 * 8 - dataAt);
        encodeNvspBody(inner.body, nvsp, sub, 0, RECORD);
      }
      if (inner.kind === 'recvComp') encodeLayout(recvCompMsg, nvsp, dv, dataAt, recvCompMsg.size, RECORD);
      if (trailer) dv.setBigUint64(len8 * 8, getBig(fields, 'prev_indices', name), true);
      return out;
    },
    encodePointed(fields): Pointed {
      if (frame === 'xfer') {
        const list = getList(fields, 'rndis', name);
        return list ? { ranges: list.map((r, i) => encodeOneRndis(r, `rndis[${i}]`)) } : {};
      }
      if (frame === 'desc') {
        const list = getList(fields, 'section', name);
        return list ? { described: concat(list.map((r, i) => encodeOneRndis(r, `section[${i}]`))) } : {};
      }
      const r = fields['rndis'];
      return r !== undefined ? { described: encodeOneRndis(r, 'rndis') } : {};
    },
  };
}

function decodePointed(frame: Frame, out: MutableObject, opts: DecodeOptions): void {
  const p = opts.pointed;
  if (!p) return;
  if (frame === 'xfer' && p.ranges) {
    const ranges = (out['ranges'] as readonly ValueObject[]) ?? [];
    if (p.ranges.length !== ranges.length) throw malformed(`${p.ranges.length} range byte strings for ${ranges.length} ranges`);
    out['rndis'] = p.ranges.map((u8, i) => {
      if (u8.length !== getNum(ranges[i]!, 'byte_count', 'range')) throw malformed(`range ${i} holds ${u8.length} bytes but byte_count says ${getNum(ranges[i]!, 'byte_count', 'range')}`);
      return decodeRndis(dataView(u8), 0, u8.length, RECORD, { ...(opts.hints ? { hints: opts.hints } : {}) });
    });
    out['range_bytes'] = p.ranges.map(bytesToHex);
  }
  if (p.described) {
    if (frame === 'desc') out['section'] = decodeSection(p.described);
    else out['rndis'] = decodeRndis(dataView(p.described), 0, p.described.length, RECORD, { partial: true, ...(opts.hints ? { hints: opts.hints } : {}) });
    out['described_bytes'] = bytesToHex(p.described);
  }
}

const sendRndis = NVSP_BODIES.find((b) => b.body === 'nvsp_1_message_send_rndis_packet')!;

export const compositeCodecs: readonly RecordCodec[] = [
  ...NVSP_BODIES.filter((b) => b.tail.kind === 'none').flatMap((b) => [composite('desc', { kind: 'nvsp', body: b }, false), composite('desc', { kind: 'nvsp', body: b }, true)]),
  composite('mpb', { kind: 'nvsp', body: sendRndis }, false),
  composite('xfer', { kind: 'nvsp', body: sendRndis }, false),
  composite('desc', { kind: 'recvComp' }, false),
  composite('desc', { kind: 'none' }, false),
  ...rndisCodecs.filter((c) => c.message === 'rndis_message/rndis_packet+PPIs').map((c): RecordCodec => ({ ...c, layer: 'composite' })),
];
