import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { buildTcp4Frame, buildTcp6Frame, buildUdp4Frame, FrameSpec, verifyL4Checksum } from '../../packet/index.js';
import { CSUM_RX, packCsumTx, packLsoV2Tx } from '../../wire/index.js';
import { newQueueCounters } from '../counters.js';
import { hostProfile } from '../profiles.js';
import { PortFrameMeta } from '../vswitch/port.js';
import { TxOffload } from './tx-offload.js';

function tcp(v6: boolean, payload: number): Uint8Array {
  const s = new FrameSpec();
  s.src4 = 0x0a000001;
  s.dst4 = 0x0a000002;
  s.src6[15] = 1;
  s.dst6[15] = 2;
  s.srcPort = 1;
  s.dstPort = 2;
  const out = new Uint8Array(payload + 100);
  const n = (v6 ? buildTcp6Frame : buildTcp4Frame)(out, 0, s, new Uint8Array(payload).fill(7), 0, payload);
  return out.slice(0, n);
}

describe('TxOffload (host transmit offloads, §6.1–6.2)', () => {
  test('hostile PPIs and bytes never throw: every frame is forwarded, or dropped with a counter', () => {
    const c = newQueueCounters();
    const off = new TxOffload(hostProfile('ws2012'), c);
    const meta = new PortFrameMeta();
    let out = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (bytes, csum, lso, useLso) => {
        meta.clear();
        meta.csumTx = csum;
        meta.lso = useLso ? lso : 0;
        const before = out + ['tx_csum_bad', 'tx_csum_not_offered', 'tx_lso_bad', 'tx_lso_not_offered'].reduce((a, n) => a + c.get(n as 'tx_csum_bad'), 0);
        off.process(bytes, 0, bytes.length, meta, () => out++);
        const after = out + ['tx_csum_bad', 'tx_csum_not_offered', 'tx_lso_bad', 'tx_lso_not_offered'].reduce((a, n) => a + c.get(n as 'tx_csum_bad'), 0);
        expect(after).toBeGreaterThan(before);
      }),
      { numRuns: 2000 },
    );
  });

  test('an LSO send with MSS 1 (65 k segments) is refused as bad, not cut', () => {
    const c = newQueueCounters();
    const f = tcp(false, 5000);
    const m = new PortFrameMeta();
    m.lso = packLsoV2Tx(1, 34, false);
    let n = 0;
    new TxOffload(hostProfile('azure'), c).process(f, 0, f.length, m, () => n++);
    expect(n).toBe(0);
    expect(c.get('tx_lso_bad')).toBe(1);
  });

  test('a checksum request is computed over the pseudo-header; UDP on ws2012 is not offered', () => {
    const c = newQueueCounters();
    const f = tcp(true, 99);
    f[54 + 16] ^= 0x55;
    const m = new PortFrameMeta();
    m.csumTx = packCsumTx(false, true, true, false, false, 54);
    let got: Uint8Array | null = null;
    new TxOffload(hostProfile('ws2012'), c).process(f, 0, f.length, m, (b, o, l, mm) => {
      got = b.slice(o, o + l);
      expect(mm.csumRx).toBe(CSUM_RX.tcpChecksumSucceeded);
    });
    expect(verifyL4Checksum(got!, 14, true, 6, 54, f.length - 54)).toBe(true);
    expect(f[54 + 16]).not.toBe(got![54 + 16]); // the input was not written
    const s = new FrameSpec();
    const u = new Uint8Array(100);
    const n = buildUdp4Frame(u, 0, s, new Uint8Array(10), 0, 10);
    m.clear();
    m.csumTx = packCsumTx(true, false, false, true, false, 34);
    new TxOffload(hostProfile('ws2012'), c).process(u, 0, n, m, () => expect.unreachable());
    expect(c.get('tx_csum_not_offered')).toBe(1);
  });
});
