/**
 * Every record codec, keyed by the `message` strings of shared/vectors/wire.jsonl, and the
 * `decodeStruct`/`encodeStruct` entry points the vectors test and `netvsc wire` use.
 */
import { WireError } from '../../core/index.js';
import { compositeCodecs } from '../composite/records.js';
import type { MutableObject, ValueObject } from '../layout/value.js';
import { ndisCodecs } from '../ndis/records.js';
import { nvspCodecs } from '../nvsp/records.js';
import { nvspBodyFor } from '../nvsp/layouts.js';
import { rndisBodyFor } from '../rndis/layouts.js';
import { ppiCodecs } from '../ppi/records.js';
import { rndisCodecs } from '../rndis/records.js';
import { vmbusCodecs } from '../vmbus/records.js';
import { type DecodeOptions, type Layer, type Pointed, type RecordCodec, STRICT } from './codec.js';

const ALL: readonly RecordCodec[] = [...vmbusCodecs, ...nvspCodecs, ...rndisCodecs, ...ppiCodecs, ...ndisCodecs, ...compositeCodecs];
const BY_KEY = new Map(ALL.map((c) => [`${c.layer}:${c.message}`, c]));

/** Every message name a codec exists for, as `layer:message`. */
export function structNames(): readonly string[] {
  return [...BY_KEY.keys()];
}

/**
 * Finds the codec for a `message` name. A name that two layers share (`vmpacket_descriptor` is a
 * plain struct and a composite record) resolves to the non-composite one unless `layer` says.
 * `layer:message` is accepted too.
 */
export function codecFor(message: string, layer?: Layer): RecordCodec {
  const colon = message.indexOf(':');
  if (colon > 0 && layer === undefined) return codecFor(message.slice(colon + 1), message.slice(0, colon) as Layer);
  const found = layer !== undefined ? BY_KEY.get(`${layer}:${message}`) : ALL.find((c) => c.message === message && c.layer !== 'composite') ?? ALL.find((c) => c.message === message);
  if (!found) throw new WireError('UNSUPPORTED', `no codec for struct "${layer ? `${layer}:` : ''}${message}"`);
  return found;
}

export interface DecodedRecord {
  readonly layer: Layer;
  readonly message: string;
  readonly fields: MutableObject;
}

export function decodeStruct(message: string, bytes: Uint8Array, opts: DecodeOptions = STRICT, layer?: Layer): DecodedRecord {
  const c = codecFor(message, layer);
  return { layer: c.layer, message: c.message, fields: c.decode(bytes, opts) };
}

export function encodeStruct(message: string, fields: ValueObject, layer?: Layer): Uint8Array {
  return codecFor(message, layer).encode(fields);
}

/** The bytes a composite record's fields say its packet points to (empty for other records). */
export function encodePointed(message: string, fields: ValueObject, layer?: Layer): Pointed {
  const c = codecFor(message, layer);
  return c.encodePointed ? c.encodePointed(fields) : {};
}

/** The record name of an NVSP message by type (composites carry only fixed-size bodies). */
export function nvspMessageName(type: number, completion: boolean, op: number): string | undefined {
  const b = nvspBodyFor(type, completion, op);
  return b && b.tail.kind === 'none' ? `nvsp_message/${b.body}` : undefined;
}

export function rndisMessageName(type: number): string | undefined {
  const b = rndisBodyFor(type);
  return b ? `rndis_message/${b.body}` : undefined;
}
