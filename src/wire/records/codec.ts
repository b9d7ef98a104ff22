/**
 * A record codec turns the bytes of one wire.jsonl `message` into the record's `fields` and back.
 * Bytes that a packet only points to (guest pages of a GPA range, a send-buffer section, the
 * receive-buffer ranges of a transfer-page packet) are not part of the packet; they travel beside
 * it as `Pointed` (vectors README rule 9).
 */
import type { ViewHints } from '../layout/struct.js';
import type { MutableObject, ValueObject } from '../layout/value.js';

export type Layer = 'vmbus' | 'nvsp' | 'rndis' | 'ppi' | 'ndis' | 'composite';

export interface Pointed {
  /** The bytes the GPA ranges or the send-buffer section describe, in order. */
  readonly described?: Uint8Array;
  /** One byte string per transfer-page range. */
  readonly ranges?: readonly Uint8Array[];
}

export interface DecodeOptions {
  /** Decode what is there: do not require bytes that a length or offset says follow. */
  readonly partial: boolean;
  /** Which bitfield-union view to print, by union name (`csum_info` → `receive`). */
  readonly hints?: ViewHints;
  readonly pointed?: Pointed;
}

export interface RecordCodec {
  readonly layer: Layer;
  readonly message: string;
  decode(u8: Uint8Array, opts: DecodeOptions): MutableObject;
  encode(fields: ValueObject): Uint8Array;
  /** Composite codecs: the pointed-to bytes that `fields` describe. */
  encodePointed?(fields: ValueObject): Pointed;
}

export const STRICT: DecodeOptions = Object.freeze({ partial: false });
