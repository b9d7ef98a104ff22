/** Protocol versions as people write them: NVSP 0x60001 → "6.1", NDIS 0x6001e → "6.30". */
export { nvspVersionName } from '../wire/index.js';

export function ndisVersionName(v: number): string {
  if (v === 0) return '-';
  return `${v >>> 16}.${String(v & 0xffff).padStart(2, '0')}`;
}
