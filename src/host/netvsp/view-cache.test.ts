// Cached frame views (view-cache.ts, PortFrameMeta.view): made for places that recur, never for
// ones that do not, and the frames a receiver copies through them are the frames that were sent.
import { describe, expect, test } from 'vitest';
import { buildUdp4Frame } from '../../packet/index.js';
import { ViewCache } from './view-cache.js';
import { OffloadLab, testSpec, type LabGuest } from '../../../test/offload/harness.js';
import { closeLabsAfterEach } from '../../../test/offload/labs.js';

const labs = closeLabsAfterEach();

describe('ViewCache', () => {
  test('a range gets its view on its second visit in a row, exactly its bytes, then the same view', () => {
    const src = Uint8Array.from({ length: 65536 }, (_, i) => i & 0xff);
    const c = new ViewCache(8);
    expect(c.get(src, 6144 + 44, 1514)).toBeNull();
    const v = c.get(src, 6144 + 44, 1514)!;
    expect(v.buffer).toBe(src.buffer);
    expect(v.byteOffset).toBe(6144 + 44);
    expect(v.length).toBe(1514);
    expect(c.get(src, 6144 + 44, 1514)).toBe(v);
    expect(c.built).toBe(1);
    // Same offset, other length or other array: not that view.
    expect(c.get(src, 6144 + 44, 1500)).toBeNull();
    expect(c.get(new Uint8Array(65536), 6144 + 44, 1514)).toBeNull();
  });

  test('ranges that never recur never make a view (no allocation per frame)', () => {
    const src = new Uint8Array(1 << 20);
    const c = new ViewCache(4);
    for (let i = 0; i < 5000; i++) c.get(src, i * 8, 256);
    expect(c.built).toBe(0);
  });

  test('every recurring place of a send buffer gets a view, collisions included', () => {
    const src = new Uint8Array(170 * 6144);
    const c = new ViewCache(11);
    const places: number[] = [];
    for (let s = 0; s < 170; s++) for (let k = 0; k < 4; k++) places.push(s * 6144 + 44 + k * 1560);
    // A steady stream: the same places over and over. Each place's slot holds one view; places
    // that share a slot take turns, so most are served and the table makes at most one per slot.
    for (let round = 0; round < 4; round++) for (const p of places) c.get(src, p, 1514);
    let hits = 0;
    for (const p of places) {
      const v = c.get(src, p, 1514);
      if (v !== null) {
        expect(v.byteOffset).toBe(p);
        hits++;
      }
    }
    expect(hits).toBeGreaterThan(places.length * 0.6);
    expect(c.built).toBeLessThanOrEqual(2048);
  });
});

describe('frames copied natively through the sender’s cached views', () => {
  async function pair(lro: boolean): Promise<{ lab: OffloadLab; a: LabGuest; b: LabGuest; got: Uint8Array[] }> {
    const lab = new OffloadLab('azure');
    labs.push(lab);
    const { a, b } = await lab.pair({ gro: false, lro });
    const got: Uint8Array[] = [];
    b.dev.onReceive = (u8, off, len) => got.push(u8.slice(off, off + len));
    return { lab, a, b, got };
  }

  test.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('1514-byte frames from send sections (lro %s: through the RSC coalescer or straight; host checksum %s) arrive byte-identical', async (lro, csum) => {
    const { lab, a, b, got } = await pair(lro);
    const s = testSpec(b.mac, a.mac, { dstPort: 9 });
    const f = new Uint8Array(1600);
    const payload = new Uint8Array(1472);
    const sent: Uint8Array[] = [];
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < 32; k++) {
        for (let i = 0; i < payload.length; i++) payload[i] = (i * 3 + k * 7 + round * 11) & 0xff;
        s.srcPort = 1000 + k;
        const n = buildUdp4Frame(f, 0, s, payload, 0, payload.length);
        sent.push(f.slice(0, n));
        expect(a.dev.xmit(f, 0, n, { csum, mss: 0 }, k !== 31)).toBe(true);
      }
      a.dev.flush();
      await lab.settle();
    }
    expect(got).toHaveLength(sent.length);
    for (let i = 0; i < sent.length; i++) expect(got[i], `frame ${i}`).toEqual(sent[i]);
    // The later rounds reused the send sections' places (and, with the host's checksum, its
    // frame scratch): copied through views.
    expect(lab.hv.allNics[1]!.coordinator.queues[0]!.rx.viewCopies).toBeGreaterThan(sent.length / 2);
    expect(lab.hv.allNics[0]!.stats().queues[0]!['tx_csum_filled']).toBe(csum ? sent.length : 0);
  });

  test('the segments of LSO super-frames cut for a guest without RSC arrive byte-identical', async () => {
    const { lab, a, b, got } = await pair(false);
    const s = testSpec(b.mac, a.mac, { srcPort: 40000, dstPort: 5001 });
    const payloadLen = 65535 - 40;
    const payload = new Uint8Array(payloadLen);
    const buf = new Uint8Array(payloadLen + 64);
    let seq = 1;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < payloadLen; i++) payload[i] = (i * 5 + round * 17 + (i >> 10)) & 0xff;
      s.seq = seq;
      await lab.sendTcp4(a, buf, 0, s, payload);
      const segs = Math.ceil(payloadLen / 1460);
      expect(got).toHaveLength(segs);
      for (let k = 0; k < segs; k++) {
        const g = got[k]!;
        expect(g.subarray(54), `round ${round} segment ${k}`).toEqual(payload.subarray(k * 1460, Math.min(payloadLen, (k + 1) * 1460)));
      }
      got.length = 0;
      seq += payloadLen;
    }
    // Rounds 2–4 cut the same shape into the same places of the host's LSO scratch.
    expect(lab.hv.allNics[1]!.coordinator.queues[0]!.rx.viewCopies).toBeGreaterThanOrEqual(2 * Math.ceil(payloadLen / 1460));
  });

  test('super-frames gathered from page-buffer slots that recur arrive byte-identical, the later ones gathered through views', async () => {
    const { lab, a, b, got } = await pair(true);
    // b speaks first, so super-frames to it go whole (RSC fragments) instead of being flooded and cut.
    const hello = new Uint8Array(128);
    const hn = buildUdp4Frame(hello, 0, testSpec(a.mac, b.mac, { dstPort: 9 }), new Uint8Array(18), 0, 18);
    expect(b.dev.xmit(hello, 0, hn, { csum: false, mss: 0 })).toBe(true);
    b.dev.flush();
    await lab.settle();
    got.length = 0;
    const s = testSpec(b.mac, a.mac, { srcPort: 40000, dstPort: 5001 });
    const payloadLen = 65535 - 40;
    const payload = new Uint8Array(payloadLen);
    const buf = new Uint8Array(payloadLen + 64);
    let seq = 1;
    for (let round = 0; round < 24; round++) {
      for (let i = 0; i < payloadLen; i++) payload[i] = (i * 13 + round * 29 + (i >> 9)) & 0xff;
      s.seq = seq;
      await lab.sendTcp4(a, buf, 0, s, payload);
      expect(got, `round ${round}`).toHaveLength(1);
      expect(got[0]!.subarray(54), `round ${round}`).toEqual(payload);
      got.length = 0;
      seq += payloadLen;
    }
    // The sender's 8 page-buffer slots come round every 8 frames: from the second visit on, views.
    expect(lab.hv.allNics[0]!.coordinator.queues[0]!.tx.gatherViewCopies).toBeGreaterThanOrEqual(8);
  });
});
