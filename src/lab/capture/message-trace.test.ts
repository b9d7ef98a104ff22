// The trace ring is bounded: messages arriving while the writer has not drained are kept up to
// the ring's size and the rest are counted as dropped, never buffered without limit. Records keep
// direction, queue and layer; a message longer than the kept bytes says its real length.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { MSG_DIR_RX, MSG_DIR_TX, MSG_LAYER_NVSP, MSG_LAYER_RNDIS } from '../../core/index.js';
import { NVSP_MSG1_TYPE_SEND_RNDIS_PKT, RNDIS_MSG_QUERY } from '../../wire/index.js';
import { MAX_MESSAGE, MessageTrace, type TraceRecord } from './message-trace.js';

const dir = mkdtempSync(join(tmpdir(), 'nvsc-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (p: string): TraceRecord[] => readFileSync(p, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as TraceRecord);

describe('MessageTrace', () => {
  test('a burst larger than the ring keeps the ring\'s worth and counts the rest as dropped', () => {
    const path = join(dir, 'burst.jsonl');
    const t = new MessageTrace(path, 'vm/eth0', 'guest');
    const nvsp = new Uint8Array(40);
    new DataView(nvsp.buffer).setUint32(0, NVSP_MSG1_TYPE_SEND_RNDIS_PKT, true);
    for (let i = 0; i < 5000; i++) t.message(MSG_DIR_TX, i % 3, MSG_LAYER_NVSP, nvsp, 0, 40); // no drain in between: one synchronous burst
    expect(t.flush()).toEqual({ records: 4096, dropped: 904 });
    for (let i = 0; i < 10; i++) t.message(MSG_DIR_TX, 1, MSG_LAYER_NVSP, nvsp, 0, 40); // room again after the drain
    t.close();
    const recs = lines(path);
    expect(recs.length).toBe(4106);
    expect(recs[4]).toMatchObject({ nic: 'vm/eth0', side: 'guest', queue: 1, dir: 'tx', layer: 'nvsp', msg: 'nvsp_message/nvsp_1_message_send_rndis_packet', struct: 'nvsp_message/nvsp_1_message_send_rndis_packet' });
    expect(recs[4]!.hex).toBe(Buffer.from(nvsp).toString('hex'));
  });

  test('a message longer than the kept bytes is cut and says its length', () => {
    const path = join(dir, 'long.jsonl');
    const t = new MessageTrace(path, 'vm/eth0', 'host');
    const q = new Uint8Array(MAX_MESSAGE + 500);
    const dv = new DataView(q.buffer);
    dv.setUint32(0, RNDIS_MSG_QUERY, true);
    dv.setUint32(4, q.length, true);
    t.message(MSG_DIR_RX, 0, MSG_LAYER_RNDIS, q, 0, q.length);
    t.close();
    const [r] = lines(path);
    expect(r).toMatchObject({ side: 'host', dir: 'rx', layer: 'rndis', msg: 'rndis_message/rndis_query_request', len: MAX_MESSAGE + 500 });
    expect(r!.hex.length).toBe(2 * MAX_MESSAGE);
  });
});
