import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { PAYLOAD_HEADER_LEN, PayloadVerifier, payloadIntact, writePayload } from './payload.js';
import { TrafficSink } from './sink.js';

/** A payload of `len` bytes for `flow`, at offset `at` of a SharedArrayBuffer (as in a receive buffer). */
function payloadIn(len: number, flow: number, seq: number, at = 3): Uint8Array {
  const b = new Uint8Array(new SharedArrayBuffer(at + len + 5));
  writePayload(b, at, len, flow, seq);
  return b;
}

describe('TrafficSink payload check (native compare)', () => {
  test('every single flipped byte of a 1500-byte payload is counted corrupt', () => {
    const len = 1472;
    const sink = new TrafficSink({ flow: 3, count: len + 1 });
    const b = payloadIn(len, 3, 0);
    sink.take(b, 3, 3 + len, len + 42);
    expect(sink.unique).toBe(1);
    for (let i = PAYLOAD_HEADER_LEN; i < len; i++) {
      b[3 + i]! ^= 0x01;
      sink.take(b, 3, 3 + len, len + 42);
      b[3 + i]! ^= 0x01;
    }
    expect(sink.corrupt).toBe(len - PAYLOAD_HEADER_LEN);
    expect(sink.unique).toBe(1);
    expect(sink.duplicated).toBe(0);
  });

  test('a 64 KB payload (beyond the first pattern size) is checked to its last byte', () => {
    const len = 65535 - 40;
    const sink = new TrafficSink({ flow: 9, count: 4 });
    const b = payloadIn(len, 9, 1);
    sink.take(b, 3, 3 + len, len + 54);
    expect(sink.unique).toBe(1);
    for (const i of [PAYLOAD_HEADER_LEN, 2047, 2048, 40000, len - 1]) {
      b[3 + i]! ^= 0x80;
      sink.take(b, 3, 3 + len, len + 54);
      b[3 + i]! ^= 0x80;
    }
    expect(sink.corrupt).toBe(5);
  });

  test('the wrong flow pattern, a wrong length field or a truncated payload is corrupt', () => {
    const sink = new TrafficSink({ flow: 1, count: 8 });
    sink.take(payloadIn(100, 2, 0), 3, 103, 142); // another flow's bytes
    sink.take(payloadIn(100, 1, 1), 3, 102, 141); // one byte short of the recorded length
    sink.take(payloadIn(8, 1, 2), 3, 11, 50); // shorter than the header
    expect(sink.corrupt).toBe(3);
    expect(sink.unique).toBe(0);
  });

  propTest.prop([fc.integer({ min: PAYLOAD_HEADER_LEN, max: 9000 }), fc.integer({ min: 0, max: 255 }), fc.nat(), fc.integer({ min: 1, max: 255 })])(
    'PayloadVerifier agrees with the byte loop, intact or with one byte changed',
    (len, flow, pos, delta) => {
      const v = new PayloadVerifier(flow, 64);
      const b = payloadIn(len, flow, 7);
      expect(v.intact(b, 3, len)).toBe(true);
      const i = 3 + PAYLOAD_HEADER_LEN + (pos % Math.max(1, len - PAYLOAD_HEADER_LEN));
      if (len > PAYLOAD_HEADER_LEN) b[i] = (b[i]! + delta) & 0xff;
      expect(v.intact(b, 3, len)).toBe(payloadIntact(b, 3, len, flow));
      if (len > PAYLOAD_HEADER_LEN) expect(v.intact(b, 3, len)).toBe(false);
    },
  );
});
