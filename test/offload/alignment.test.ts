// Every copy on the data path keeps a frame's bytes at their address mod 8 (packet/copy.ts
// alignGap: V8 copies into and out of a SharedArrayBuffer word-wise only when both sides are
// equally aligned). Through a real guest, host and receiver: frames handed to the sending driver
// at each offset mod 8 arrive byte-identical at the same offset mod 8: small frames through send
// sections, 64 KB LSO super-frames through the page pool, the host's gather and segmenter, and
// the receiver's GRO merge or RSC reassembly.
import { describe, expect, test } from 'vitest';
import { buildTcp4Frame, buildUdp4Frame, FrameSpec } from '../../src/packet/index.js';
import { TCP_ACK } from '../../src/wire/index.js';
import { OffloadLab, testSpec, type LabGuest } from './harness.js';
import { closeLabsAfterEach } from './labs.js';

const labs = closeLabsAfterEach();

function spec(a: LabGuest, b: LabGuest): FrameSpec {
  return testSpec(b.mac, a.mac, { srcPort: 40000, dstPort: 5001 });
}

interface Got {
  bytes: Uint8Array;
  /** Address mod 8 of the frame's first byte in the array the driver delivered it from. */
  mod8: number;
}

async function pair(lro: boolean, gro: boolean): Promise<{ lab: OffloadLab; a: LabGuest; b: LabGuest; got: Got[] }> {
  const lab = new OffloadLab('azure');
  labs.push(lab);
  const { a, b } = await lab.pair({ gro, lro });
  const got: Got[] = [];
  b.dev.onReceive = (u8, off, len) => got.push({ bytes: u8.slice(off, off + len), mod8: (u8.byteOffset + off) & 7 });
  return { lab, a, b, got };
}

describe('alignment across the data path (packet/copy alignGap)', () => {
  test('1514-byte frames sent from each offset mod 8 arrive identical at that offset mod 8', async () => {
    const { lab, a, b, got } = await pair(false, false);
    const s = spec(a, b);
    const sent: Uint8Array[] = [];
    const buf = new Uint8Array(2048);
    for (let k = 0; k < 8; k++) {
      const payload = Uint8Array.from({ length: 1472 }, (_, i) => (i * 7 + k) & 0xff);
      const n = buildUdp4Frame(buf, k, s, payload, 0, payload.length);
      sent.push(buf.slice(k, k + n));
      expect(a.dev.xmit(buf, k, n, { csum: false, mss: 0 }, k < 7)).toBe(true);
    }
    a.dev.flush();
    await lab.settle();
    expect(got.map((g) => [...g.bytes])).toEqual(sent.map((f) => [...f]));
    expect(got.map((g) => g.mod8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test.each([
    ['GRO', false, true],
    ['host RSC', true, false],
  ] as const)('64 KB LSO from offsets 1, 3, 6 comes back coalesced by %s, identical payload, same offset mod 8', async (_n, lro, gro) => {
    const { lab, a, b, got } = await pair(lro, gro);
    const s = spec(a, b);
    const payload = Uint8Array.from({ length: 65535 - 40 }, (_, i) => (i * 131 + (i >> 9)) & 0xff);
    const buf = new Uint8Array(payload.length + 128);
    let seq = 1000;
    for (const k of [1, 3, 6]) {
      s.seq = seq;
      s.tcpFlags = TCP_ACK;
      const n = buildTcp4Frame(buf, k, s, payload, 0, payload.length);
      expect(a.dev.xmit(buf, k, n, { csum: true, mss: 1460 })).toBe(true);
      a.dev.flush();
      await lab.settle();
      const g = got.at(-1)!;
      expect(got).toHaveLength(1);
      expect(g.bytes.length).toBe(n);
      expect(g.bytes.subarray(54)).toEqual(payload);
      expect(g.mod8, `offset ${k}`).toBe(k);
      got.length = 0;
      seq += payload.length;
    }
  });
});
