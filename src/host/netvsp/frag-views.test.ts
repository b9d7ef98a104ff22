// RSC fragment copies through cached source views (frag-views.ts): built once per steady layout,
// never per frame, and the bytes that reach the guest are the same as through the word loop.
import { describe, expect, test } from 'vitest';
import { buildTcp4Frame } from '../../packet/index.js';
import { RX_F_RSC } from '../../guest/netvsc/meta.js';
import { FRAG_LAYOUTS, FragmentViews } from './frag-views.js';
import { OffloadLab, testSpec } from '../../../test/offload/harness.js';
import { closeLabsAfterEach } from '../../../test/offload/labs.js';

const labs = closeLabsAfterEach();

describe('FragmentViews', () => {
  test('a layout is built on its second miss in a row, then served as is; views cover exactly each fragment', () => {
    const src = Uint8Array.from({ length: 10_000 }, (_, i) => i & 0xff);
    const fv = new FragmentViews(64);
    expect(fv.get(src, 5, 1552)).toBeNull();
    const v = fv.get(src, 5, 1552)!;
    expect(fv.built).toBe(1);
    expect(v).toHaveLength(Math.floor((10_000 - 5) / 1552)); // whole fragments only
    for (let i = 0; i < v.length; i++) {
      expect(v[i]!.buffer).toBe(src.buffer);
      expect(v[i]!.byteOffset).toBe(5 + i * 1552);
      expect(v[i]!.length).toBe(1552);
    }
    expect(fv.get(src, 5, 1552)).toBe(v);
    expect(fv.built).toBe(1);
  });

  test('layouts that alternate are never built (no allocation per frame), and at most FRAG_LAYOUTS are kept', () => {
    const src = new Uint8Array(70_000);
    const fv = new FragmentViews(64);
    for (let k = 0; k < 100; k++) expect(fv.get(src, k & 1, 1552)).toBeNull();
    expect(fv.built).toBe(0);
    // Steady layouts 0..FRAG_LAYOUTS: each built once; the first is then the least recently used and gone.
    const kept: Uint8Array[][] = [];
    for (let off = 0; off <= FRAG_LAYOUTS; off++) {
      fv.get(src, off, 1552);
      kept.push(fv.get(src, off, 1552)!);
    }
    expect(fv.built).toBe(FRAG_LAYOUTS + 1);
    for (let off = 1; off <= FRAG_LAYOUTS; off++) expect(fv.get(src, off, 1552)).toBe(kept[off]);
    expect(fv.get(src, 0, 1552)).toBeNull();
    expect(fv.built).toBe(FRAG_LAYOUTS + 1);
    // Another array or fragment size is another layout.
    expect(fv.get(new Uint8Array(70_000), 1, 1552)).toBeNull();
    expect(fv.get(src, 1, 1544)).toBeNull();
    // No more than maxFragments views.
    const few = new FragmentViews(4);
    few.get(src, 0, 1552);
    expect(few.get(src, 0, 1552)).toHaveLength(4);
  });

  test('through a real host: successive 64 KB super-frames of one flow arrive byte-identical while the host copies them through one built layout', async () => {
    const lab = new OffloadLab('azure');
    labs.push(lab);
    const { a, b } = await lab.pair({ gro: false, lro: true });
    const got: Uint8Array[] = [];
    let rsc = 0;
    b.dev.onReceive = (u8, off, len, meta) => {
      got.push(u8.slice(off, off + len));
      if ((meta.flags & RX_F_RSC) !== 0) rsc++;
    };
    // Teach the switch b's MAC so super-frames go whole (RSC fragments), not flooded and cut.
    const s = testSpec(a.mac, b.mac, { srcPort: 9, dstPort: 9 });
    const hello = new Uint8Array(128);
    const hn = buildTcp4Frame(hello, 0, s, new Uint8Array(10), 0, 10);
    expect(b.dev.xmit(hello, 0, hn, { csum: true, mss: 0 })).toBe(true);
    b.dev.flush();
    await lab.settle();
    got.length = 0;
    const fs = testSpec(b.mac, a.mac, { srcPort: 40000, dstPort: 5001 });
    const payloadLen = 65535 - 40;
    const buf = new Uint8Array(payloadLen + 128);
    const payload = new Uint8Array(payloadLen);
    let seq = 1;
    for (const [round, k] of [0, 0, 0, 0, 3, 3, 3].entries()) {
      for (let i = 0; i < payloadLen; i++) payload[i] = (i * 7 + round * 13 + (i >> 11)) & 0xff;
      fs.seq = seq;
      const n = await lab.sendTcp4(a, buf, k, fs, payload);
      expect(got, `round ${round}`).toHaveLength(1);
      expect(got[0]!.length).toBe(n);
      expect(got[0]!.subarray(54), `round ${round}`).toEqual(payload);
      got.length = 0;
      seq += payloadLen;
    }
    expect(rsc).toBe(7);
    // One layout per sending offset: 0 and 3 put the frame at two places of the host's gather scratch.
    expect(lab.hv.allNics[1]!.coordinator.queues[0]!.rx.fragLayoutsBuilt).toBe(2);
  });
});
