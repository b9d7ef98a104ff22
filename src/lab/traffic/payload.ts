/**
 * The payload every lab traffic frame carries after its UDP or TCP header, so a sink can tell
 * what arrived without a side channel:
 *   0 magic u32 BE ('NVLB') | 4 flow u32 BE | 8 seq u32 BE | 12 payload length u32 BE | 16.. pattern
 * Pattern byte i (counted from the payload start) is patternByte(flow, i): it does not depend on
 * seq, so a generator builds a frame once and patches only the seq field (and the L4 checksum,
 * incrementally), while the sink still checks every byte.
 */
export const PAYLOAD_MAGIC = 0x4e564c42;
/** Bytes of the payload header; a payload is never shorter. */
export const PAYLOAD_HEADER_LEN = 16;
export const PAYLOAD_SEQ_AT = 8;

export function patternByte(flow: number, i: number): number {
  return (i * 13 + flow * 7 + 1) & 0xff;
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

export function getU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Writes a whole payload of `len` ≥ PAYLOAD_HEADER_LEN bytes at b[at]. */
export function writePayload(b: Uint8Array, at: number, len: number, flow: number, seq: number): void {
  putU32(b, at, PAYLOAD_MAGIC);
  putU32(b, at + 4, flow);
  putU32(b, at + PAYLOAD_SEQ_AT, seq);
  putU32(b, at + 12, len);
  for (let i = PAYLOAD_HEADER_LEN; i < len; i++) b[at + i] = patternByte(flow, i);
}

/** Patches the seq field of a payload written by writePayload. */
export function writePayloadSeq(b: Uint8Array, at: number, seq: number): void {
  putU32(b, at + PAYLOAD_SEQ_AT, seq);
}

/** Whether the payload at b[at, at+len) is intact: its recorded length and every pattern byte. */
export function payloadIntact(b: Uint8Array, at: number, len: number, flow: number): boolean {
  if (len < PAYLOAD_HEADER_LEN || getU32(b, at + 12) !== len) return false;
  for (let i = PAYLOAD_HEADER_LEN; i < len; i++) if (b[at + i] !== patternByte(flow, i)) return false;
  return true;
}
