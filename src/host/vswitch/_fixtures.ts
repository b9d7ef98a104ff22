// Test fixtures for the switch tests (not used by the library).
import { parseMac } from './port.js';

/** A 60-byte frame dst ← src whose byte 15 is `tag` (what the fake ports record). */
export function taggedFrame(dst: string, src: string, tag: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set(parseMac(dst), 0);
  f.set(parseMac(src), 6);
  f[15] = tag;
  return f;
}
