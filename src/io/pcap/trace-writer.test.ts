import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { TraceWriter } from './trace-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'nvsc-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lines(p: string): { seq: number }[] {
  return readFileSync(p, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number });
}

describe('TraceWriter', () => {
  test('writes one JSON object per line and rotates, keeping maxFiles old files', () => {
    const p = join(dir, 't.jsonl');
    const w = new TraceWriter(p, { maxFileBytes: 300, maxFiles: 2, bufferBytes: 100 });
    for (let seq = 0; seq < 40; seq++) w.write({ seq, msg: 'NVSP_MSG1_TYPE_SEND_RNDIS_PKT' });
    w.close();
    const cur = lines(p);
    const r1 = lines(`${p}.1`);
    const r2 = lines(`${p}.2`);
    expect(existsSync(`${p}.3`)).toBe(false);
    for (const f of [p, `${p}.1`, `${p}.2`]) expect(readFileSync(f).length).toBeLessThanOrEqual(300);
    // The newest records are in the current file, the files are consecutive, the oldest were dropped.
    expect(cur.at(-1)!.seq).toBe(39);
    expect(r1.at(-1)!.seq + 1).toBe(cur[0]!.seq);
    expect(r2.at(-1)!.seq + 1).toBe(r1[0]!.seq);
    expect(r2[0]!.seq).toBeGreaterThan(0);
    expect(w.records).toBe(40);
  });

  test('maxRecords turns the rest into counted drops; writes after close are drops', () => {
    const p = join(dir, 'lim.jsonl');
    const w = new TraceWriter(p, { maxRecords: 3 });
    for (let seq = 0; seq < 5; seq++) w.write({ seq });
    w.close();
    expect(w.write({ seq: 9 })).toBe(false);
    expect(lines(p).map((l) => l.seq)).toEqual([0, 1, 2]);
    expect(w.dropped).toBe(3);
  });
});
