import type { Command } from 'commander';
import { ConfigError } from '../../core/index.js';
import {
  type DecodedRecord,
  type Layer,
  NVSP_RECV_COMPLETION_SIZE,
  type Pointed,
  type ValueObject,
  WireError,
  bytesToHex,
  codecFor,
  decodeStruct,
  encodePointed,
  encodeStruct,
  hexToBytes,
  nvspMessageName,
  rndisMessageName,
} from '../../wire/index.js';

export interface WireDecodeOptions {
  readonly hex: string;
  readonly struct?: string;
  /** Bytes the packet points to: GPA ranges or a send-buffer section. */
  readonly described?: string;
  /** One hex string per transfer-page range. */
  readonly range?: readonly string[];
}

/**
 * `netvsc wire decode`: with --struct, decodes exactly that wire.jsonl message (not requiring
 * bytes it says follow); without, recognises a whole VMBus packet or an RNDIS message.
 */
export function wireDecode(o: WireDecodeOptions): DecodedRecord {
  const bytes = hexToBytes(o.hex);
  const pointed: Pointed = {
    ...(o.described ? { described: hexToBytes(o.described) } : {}),
    ...(o.range && o.range.length ? { ranges: o.range.map(hexToBytes) } : {}),
  };
  if (o.struct) return decodeStruct(o.struct, bytes, { partial: true, pointed });
  const [message, layer] = detect(bytes);
  return decodeStruct(message, bytes, { partial: false, pointed }, layer);
}

/** Finds the record name for a whole packet: descriptor type 6/7/9/11 with consistent offset8/len8, or an RNDIS type. */
function detect(u8: Uint8Array): [string, Layer] {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  if (u8.length >= 16) {
    const type = dv.getUint16(0, true);
    const off = dv.getUint16(2, true) * 8;
    const len = dv.getUint16(4, true) * 8;
    const whole = len === u8.length || len + 8 === u8.length;
    if ([6, 7, 9, 11].includes(type) && whole && off >= 16 && off <= len) {
      const trailer = len + 8 === u8.length ? '+trailer' : '';
      const payload = len - off;
      if (type === 11 && payload === 0) return ['vmpacket_descriptor', 'composite'];
      if (type === 11 && payload === NVSP_RECV_COMPLETION_SIZE) return ['vmpacket_descriptor+recv_comp_msg', 'composite'];
      const frame = type === 7 ? 'vmtransfer_page_packet_header' : type === 9 ? 'vmbus_packet_mpb_array' : 'vmpacket_descriptor';
      if (payload >= 4) {
        const nvsp = nvspMessageName(dv.getUint32(off, true), type === 11, payload >= 8 ? dv.getUint32(off + 4, true) : 0);
        if (nvsp) return [`${frame}+${nvsp}${trailer}`, 'composite'];
      }
    }
  }
  if (u8.length >= 8) {
    const name = rndisMessageName(dv.getUint32(0, true));
    if (name && dv.getUint32(4, true) === u8.length) return [name, 'rndis'];
  }
  throw new WireError('UNSUPPORTED', 'bytes are neither a whole VMBus packet (type 6/7/9/11 with matching offset8/len8) nor an RNDIS message whose msg_len is their length; try --struct NAME');
}

/** `netvsc wire encode`: a {layer, message, fields} record → hex (plus pointed-to bytes for composites). */
export function wireEncode(json: string): { hex: string; described?: string; ranges?: string[] } {
  let rec: unknown;
  try {
    rec = JSON.parse(json);
  } catch (e) {
    throw new ConfigError('BAD_CONFIG', `input is not JSON: ${(e as Error).message}`);
  }
  if (typeof rec !== 'object' || rec === null || typeof (rec as { message?: unknown }).message !== 'string' || typeof (rec as { fields?: unknown }).fields !== 'object') {
    throw new ConfigError('BAD_CONFIG', 'input must be a JSON object {layer, message, fields}');
  }
  const { layer, message, fields } = rec as { layer?: Layer; message: string; fields: ValueObject };
  codecFor(message, layer);
  const hex = bytesToHex(encodeStruct(message, fields, layer));
  const p = encodePointed(message, fields, layer);
  return { hex, ...(p.described ? { described: bytesToHex(p.described) } : {}), ...(p.ranges ? { ranges: p.ranges.map(bytesToHex) } : {}) };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function register(program: Command): void {
  const wire = program.command('wire').description('decode and encode VMBus/NVSP/RNDIS/PPI/NDIS bytes (shapes of shared/vectors/wire.jsonl)');
  wire
    .command('decode')
    .description('print {layer, message, fields} for hex bytes')
    .requiredOption('--hex <hex>', 'the bytes, as hex')
    .option('--struct <name>', 'decode exactly this wire.jsonl message (e.g. rndis_message/rndis_packet+PPIs)')
    .option('--described <hex>', 'bytes a GPA-direct packet or send-buffer section points to')
    .option('--range <hex...>', 'bytes of each transfer-page range')
    .action((o: WireDecodeOptions) => {
      console.log(JSON.stringify(wireDecode(o)));
    });
  wire
    .command('encode')
    .description('read {layer, message, fields} JSON on stdin and print the hex')
    .action(async () => {
      const r = wireEncode(await readStdin());
      console.log(r.hex);
      if (r.described) console.log(`described ${r.described}`);
      for (const x of r.ranges ?? []) console.log(`range ${x}`);
    });
}
