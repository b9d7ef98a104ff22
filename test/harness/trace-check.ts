/**
 * Reads a NIC's message trace (src/lab/capture) and checks its records against the wire CLI's
 * decoder, the way a user would run `netvsc wire decode --hex <hex> [--struct <struct>]`.
 */
import { readFileSync } from 'node:fs';
import { wireDecode } from '../../src/cli/commands/wire.js';
import type { TraceRecord } from '../../src/lab/index.js';

export function readTrace(path: string): TraceRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as TraceRecord);
}

/**
 * The records that do not decode to the message they name, one line each (empty = all good). A
 * whole VMBus packet decodes as `<descriptor>+<NVSP message>`, the rest as the message itself.
 */
export function undecodable(recs: readonly TraceRecord[]): string[] {
  const wrong: string[] = [];
  for (const r of recs) {
    let got: string;
    try {
      got = wireDecode({ hex: r.hex, ...(r.struct ? { struct: r.struct } : {}) }).message;
    } catch (e) {
      got = (e as Error).message;
    }
    const want = r.struct ?? (r.msg === 'completion' ? 'vmpacket_descriptor' : r.msg);
    if (got !== want && !got.endsWith(`+${want}`)) wrong.push(`${r.dir} ${r.layer} ${r.msg} ${r.hex.slice(0, 64)}: ${got}`);
  }
  return wrong;
}
