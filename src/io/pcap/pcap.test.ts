import { fc, test } from '@fast-check/vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { WireError } from '../../core/index.js';
import { parsePcap, readPcap } from './pcap-reader.js';
import { PcapWriter } from './pcap-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'nvsc-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describe('pcap', () => {
  test('the file header is libpcap 2.4, little-endian µs, LINKTYPE_ETHERNET (hand-checked bytes)', () => {
    const p = join(dir, 'hdr.pcap');
    const w = new PcapWriter(p, { snapLen: 262144, bufferBytes: 1 << 19 });
    w.write(Uint8Array.from([1, 2, 3]), 0, 3, 1_700_000_000_123_456);
    w.close();
    const b = readFileSync(p);
    expect([...b.subarray(0, 24)]).toEqual([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]);
    // ts 1700000000 s = 0x6553f100, 123456 µs = 0x0001e240, caplen 3, origlen 3, then the bytes.
    expect([...b.subarray(24)]).toEqual([0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00, 3, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3]);
  });

  test.prop([fc.array(fc.tuple(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 2 ** 40 })), { maxLength: 40 })], { numRuns: 30 })(
    'write() then readPcap() gives back every frame, timestamp and snap-truncated length',
    (frames) => {
      const p = join(dir, `rt${n++}.pcap`);
      // A small batch buffer forces many flushes; snapLen 200 truncates the longer frames.
      const w = new PcapWriter(p, { snapLen: 200, bufferBytes: 512 });
      for (const [bytes, off, ts] of frames) w.write(bytes, Math.min(off, bytes.length), bytes.length - Math.min(off, bytes.length), ts);
      w.close();
      const f = readPcap(p);
      expect(f.linkType).toBe(1);
      expect(f.snapLen).toBe(200);
      expect(f.records).toHaveLength(frames.length);
      frames.forEach(([bytes, off, ts], i) => {
        const o = Math.min(off, bytes.length);
        const r = f.records[i]!;
        expect(r.origLen).toBe(bytes.length - o);
        expect([...r.data]).toEqual([...bytes.subarray(o, o + 200)]);
        expect(r.tsSec * 1e6 + r.tsUsec).toBe(ts);
      });
    },
  );

  test('maxFileBytes turns further frames into counted drops', () => {
    const p = join(dir, 'limit.pcap');
    const w = new PcapWriter(p, { maxFileBytes: 24 + 2 * (16 + 60) });
    const f = new Uint8Array(60);
    expect([w.write(f, 0, 60), w.write(f, 0, 60), w.write(f, 0, 60)]).toEqual([true, true, false]);
    w.close();
    expect(w.dropped).toBe(1);
    expect(readPcap(p).records).toHaveLength(2);
  });

  test('parsePcap() reads big-endian nanosecond files and rejects truncated ones', () => {
    const b = new Uint8Array(24 + 16 + 2);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, 0xa1b23c4d, false);
    dv.setUint32(16, 65535, false);
    dv.setUint32(20, 1, false);
    dv.setUint32(24, 5, false);
    dv.setUint32(28, 123_456_789, false);
    dv.setUint32(32, 2, false);
    dv.setUint32(36, 2, false);
    b[40] = 0xab;
    const f = parsePcap(b);
    expect(f.records[0]).toMatchObject({ tsSec: 5, tsUsec: 123_456, origLen: 2 });
    expect(() => parsePcap(b.subarray(0, 41))).toThrow(WireError);
    expect(() => parsePcap(new Uint8Array(24))).toThrow(/not a pcap/);
  });
});
