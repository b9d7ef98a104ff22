// The NVSP protocol versions (§3.1), one table for the guest's offer, the host's choice and the CLI's names.
import {
  NVSP_PROTOCOL_VERSION_1,
  NVSP_PROTOCOL_VERSION_2,
  NVSP_PROTOCOL_VERSION_4,
  NVSP_PROTOCOL_VERSION_5,
  NVSP_PROTOCOL_VERSION_6,
  NVSP_PROTOCOL_VERSION_61,
} from '../constants.js';

/** NVSP versions a guest may ask for, newest first, as Linux tries them (§3.1, §3.6 step 2). */
export const NVSP_VERSIONS: readonly number[] = [
  NVSP_PROTOCOL_VERSION_61,
  NVSP_PROTOCOL_VERSION_6,
  NVSP_PROTOCOL_VERSION_5,
  NVSP_PROTOCOL_VERSION_4,
  NVSP_PROTOCOL_VERSION_2,
  NVSP_PROTOCOL_VERSION_1,
];

// NVSP numbers are not major<<16|minor throughout: version 1 is 2 and version 2 is 0x30002.
const NVSP_NAMES: ReadonlyMap<number, string> = new Map([
  [NVSP_PROTOCOL_VERSION_1, '1'],
  [NVSP_PROTOCOL_VERSION_2, '2'],
  [NVSP_PROTOCOL_VERSION_4, '4'],
  [NVSP_PROTOCOL_VERSION_5, '5'],
  [NVSP_PROTOCOL_VERSION_6, '6'],
  [NVSP_PROTOCOL_VERSION_61, '6.1'],
]);

/** An NVSP version as people write it: 0x60001 → "6.1"; 0 (not negotiated) → "-". */
export function nvspVersionName(v: number): string {
  if (v === 0) return '-';
  return NVSP_NAMES.get(v) ?? `0x${v.toString(16)}`;
}
