/** Protocol versions as people write them: NVSP 0x60001 → "6.1", NDIS 0x6001e → "6.30". */
import {
  NVSP_PROTOCOL_VERSION_1,
  NVSP_PROTOCOL_VERSION_2,
  NVSP_PROTOCOL_VERSION_4,
  NVSP_PROTOCOL_VERSION_5,
  NVSP_PROTOCOL_VERSION_6,
  NVSP_PROTOCOL_VERSION_61,
} from '../wire/index.js';

// NVSP numbers are not major<<16|minor throughout: version 1 is 2 and version 2 is 0x30002.
const NVSP_NAMES: ReadonlyMap<number, string> = new Map([
  [NVSP_PROTOCOL_VERSION_1, '1'],
  [NVSP_PROTOCOL_VERSION_2, '2'],
  [NVSP_PROTOCOL_VERSION_4, '4'],
  [NVSP_PROTOCOL_VERSION_5, '5'],
  [NVSP_PROTOCOL_VERSION_6, '6'],
  [NVSP_PROTOCOL_VERSION_61, '6.1'],
]);

export function nvspVersionName(v: number): string {
  if (v === 0) return '-';
  return NVSP_NAMES.get(v) ?? `0x${v.toString(16)}`;
}

export function ndisVersionName(v: number): string {
  if (v === 0) return '-';
  return `${v >>> 16}.${String(v & 0xffff).padStart(2, '0')}`;
}
