// `netvsc wire` run in-process through main(): decode prints a wire.jsonl-shaped record,
// encode gives the hex back, bad bytes give one `netvsc: CODE: message` line and exit 2.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '../main.js';
import { wireDecode, wireEncode } from './wire.js';

const records = readFileSync(resolve(import.meta.dirname, '../../../test/vectors/wire.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as { id: string; layer: string; message: string; hex: string; fields: Record<string, unknown> });
const rec = (id: string) => records.find((r) => r.id === id)!;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void (out += `${String(s)}\n`));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await main(args), out, err };
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('netvsc wire', () => {
  test('decode without --struct recognises an inband VMBus packet carrying NVSP INIT with a trailer', async () => {
    const r = rec('composite.g.ring_entry_with_trailer');
    const { code, out } = await run(['wire', 'decode', '--hex', r.hex]);
    expect(code).toBe(0);
    const got = JSON.parse(out) as { layer: string; message: string; fields: Record<string, unknown> };
    expect(got.message).toBe(r.message);
    expect(got.fields).toEqual(r.fields);
  });

  test('decode without --struct recognises an RNDIS message by its type', () => {
    const r = rec('rndis.set_complete');
    expect(wireDecode({ hex: r.hex })).toEqual({ layer: 'rndis', message: r.message, fields: r.fields });
  });

  test('decode --struct decodes a transfer-page header without the NVSP message it says follows', () => {
    const r = rec('vmbus.xfer_page_header.3ranges');
    expect(wireDecode({ hex: r.hex, struct: r.message }).fields).toEqual(r.fields);
  });

  test('decode --struct takes a composite name', async () => {
    const r = rec('composite.c.rndis_packet_csum_hash');
    const { code, out } = await run(['wire', 'decode', '--hex', r.hex, '--struct', r.message]);
    expect(code).toBe(0);
    expect((JSON.parse(out) as { fields: { data: string } }).fields.data).toBe(r.fields['data']);
  });

  test('encode gives back the hex of a record', () => {
    const r = rec('nvsp.send_ndis_config.v61');
    expect(wireEncode(JSON.stringify({ layer: r.layer, message: r.message, fields: r.fields })).hex).toBe(r.hex);
  });

  test('bad hex prints one line with the rule broken and exits 2', async () => {
    const { code, err } = await run(['wire', 'decode', '--hex', '0100000088000000', '--struct', 'rndis_message/rndis_packet']);
    expect(code).toBe(2);
    expect(err).toMatch(/^netvsc: (TRUNCATED|MALFORMED): .+\n$/);
  });

  test('odd-length hex is rejected as MALFORMED', async () => {
    const { code, err } = await run(['wire', 'decode', '--hex', 'abc']);
    expect(code).toBe(2);
    expect(err).toMatch(/^netvsc: MALFORMED: hex/);
  });
});
