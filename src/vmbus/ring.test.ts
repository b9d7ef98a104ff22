import { fc, test as ftest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { VM_PKT_COMP, VM_PKT_DATA_INBAND } from '../wire/constants.js';
import { pattern, ringPair } from '../../test/harness/ring-pair.js';
import { RING_INTERRUPT_MASK, RING_PENDING_SEND_SZ, RING_READ_INDEX, RING_WRITE_INDEX } from './ring-memory.js';
import { RingWriter } from './ring-writer.js';

const corrupt = expect.objectContaining({ code: 'RING_CORRUPT' });

describe('RingWriter / RingReader', () => {
  test('a packet has the real layout: descriptor, payload, zero pad, trailer with the old write index', () => {
    const p = ringPair(1, 64);
    const payload = Uint8Array.of(1, 2, 3, 4, 5);
    expect(p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 1, 0x11223344, 0x55667788, payload, 0, 5)).toBe(true);
    p.writer.flush();
    const at = 4096 * 2 + 64; // data area of the ring at PFN 1, packet at index 64
    const b = p.mem.u8;
    expect([...b.subarray(at, at + 16)]).toEqual([6, 0, 2, 0, 3, 0, 1, 0, 0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55]);
    expect([...b.subarray(at + 16, at + 24)]).toEqual([1, 2, 3, 4, 5, 0, 0, 0]);
    expect([...b.subarray(at + 24, at + 32)]).toEqual([0, 0, 0, 0, 64, 0, 0, 0]);
    expect(p.ring.load(RING_WRITE_INDEX)).toBe(96);
  });

  test('wrap-around at every 8-byte alignment keeps bytes, ids and order', () => {
    const buf = new Uint8Array(200);
    for (let start = 4096 - 256; start < 4096; start += 8) {
      for (const len of [0, 1, 7, 8, 9, 40, 63, 64, 65, 120]) {
        const p = ringPair(1, start);
        for (let seq = 0; seq < 3; seq++) {
          expect(p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, seq, start, pattern(seq, len, buf), 0, len)).toBe(true);
        }
        p.writer.flush();
        for (let seq = 0; seq < 3; seq++) {
          expect(p.reader.next()).toBe(true);
          const k = p.reader.packet;
          expect([k.type, k.transIdLo, k.transIdHi, k.payloadOffset]).toEqual([VM_PKT_DATA_INBAND, seq, start, 16]);
          expect(k.payloadLen).toBe((len + 7) & ~7);
          expect(k.buf.subarray(16, 16 + len)).toEqual(pattern(seq, len));
        }
        expect(p.reader.next()).toBe(false);
      }
    }
  });

  test('two-part writes and beginWrite()/set*() build the same bytes as one part', () => {
    const a = ringPair();
    const b = ringPair();
    const src = pattern(5, 100);
    a.writer.tryWritePacket(VM_PKT_COMP, 0, 9, 0, src, 0, 30, src, 30, 70);
    b.writer.beginWrite(VM_PKT_COMP, 0, 9, 0, 16, 100);
    b.writer.setBytes(16, src, 0, 100);
    b.writer.commitWrite();
    expect(a.mem.u8).toEqual(b.mem.u8);
  });

  test('the one-part fast path writes the same bytes as beginWrite()/setBytes(), wrapped or not', () => {
    // Source offset 0 takes the 64-bit word copy, 4 the 32-bit fallback, 3 the byte path.
    for (const srcOff of [0, 4, 3]) {
      for (const start of [0, 4096 - 32, 4096 - 24, 4096 - 16]) {
        for (let len = 0; len <= 40; len++) {
          const a = ringPair(1, start);
          const b = ringPair(1, start);
          const src = pattern(len + srcOff, 48);
          a.writer.tryWritePacket(VM_PKT_DATA_INBAND, 1, 7, 8, src, srcOff, len);
          b.writer.beginWrite(VM_PKT_DATA_INBAND, 1, 7, 8, 16, len);
          b.writer.setBytes(16, src, srcOff, len);
          b.writer.commitWrite();
          expect(a.writer.flush()).toBe(b.writer.flush());
          expect(a.mem.u8).toEqual(b.mem.u8);
        }
      }
    }
  });

  test('a full ring applies back-pressure: writes fail without change, then resume in order with nothing lost', () => {
    const p = ringPair(1);
    const payload = new Uint8Array(200);
    let written = 0;
    let read = 0;
    let fulls = 0;
    while (written < 500) {
      if (p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, written, 0, pattern(written, 200, payload), 0, 200)) {
        written++;
        continue;
      }
      fulls++;
      p.writer.flush();
      expect(p.ring.load(RING_WRITE_INDEX)).not.toBe(p.ring.load(RING_READ_INDEX)); // never filled to read == write
      let n = 0;
      while (n < 3 && p.reader.next()) {
        expect(p.reader.packet.transIdLo).toBe(read);
        expect(p.reader.packet.buf.subarray(16, 216)).toEqual(pattern(read, 200));
        read++;
        n++;
      }
      p.reader.commitRead();
    }
    p.writer.flush();
    while (p.reader.next()) expect(p.reader.packet.transIdLo).toBe(read++);
    expect(read).toBe(500);
    expect(fulls).toBeGreaterThan(10);
    expect(p.wc.get('out_full_total')).toBe(fulls);
  });

  test('flush() asks for a signal only on empty to non-empty with interrupt_mask clear (§2.3 step 7)', () => {
    const p = ringPair();
    const x = new Uint8Array(8);
    p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 1, 0, x, 0, 8);
    p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 2, 0, x, 0, 8);
    expect(p.writer.flush()).toBe(true); // one signal for the batch
    p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 3, 0, x, 0, 8);
    expect(p.writer.flush()).toBe(false); // reader has not caught up: not empty before
    while (p.reader.next());
    p.reader.commitRead();
    p.reader.beginRead();
    p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 4, 0, x, 0, 8);
    expect(p.writer.flush()).toBe(false); // mask set: reader is polling
    expect(p.reader.endRead()).toBe(32); // data raced in: the reader keeps polling
    expect(p.writer.flush()).toBe(false); // nothing new to publish
  });

  test('commitRead() wakes a writer waiting on pending_send_sz only when the batch crosses it (§2.4)', () => {
    const p = ringPair(1);
    const x = new Uint8Array(1000);
    while (p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 0, 0, x, 0, 1000));
    p.writer.flush();
    const need = RingWriter.packetBytes(16, 1000);
    expect(p.writer.requestSpace(need)).toBe(false);
    expect(p.ring.load(RING_PENDING_SEND_SZ)).toBe(need);
    expect(p.reader.next()).toBe(true);
    expect(p.reader.commitRead()).toBe(true); // free went from < need to > need
    p.writer.clearPendingSend();
    expect(p.reader.next()).toBe(true);
    expect(p.reader.commitRead()).toBe(false); // no writer waiting
  });

  test('a packet longer than max_pkt_size is clamped in the private copy and the ring stays in step', () => {
    const p = ringPair(1, 0, 64);
    const big = pattern(1, 100);
    p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 1, 0, big, 0, 100);
    p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 2, 0, big, 0, 8);
    p.writer.flush();
    expect(p.reader.next()).toBe(true);
    expect(p.reader.packet.len).toBe(64);
    expect(p.reader.packet.payloadLen).toBe(48);
    expect(p.rc.get('pkt_truncated')).toBe(1);
    expect(p.reader.next()).toBe(true);
    expect(p.reader.packet.transIdLo).toBe(2);
  });

  describe('bad input gives RING_CORRUPT, a counter, and a ring that refuses further reads', () => {
    function withOnePacket(poke: (dv: DataView, at: number) => void) {
      const p = ringPair(1, 0);
      p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 1, 0, new Uint8Array(40), 0, 40);
      p.writer.flush();
      poke(p.ring.dv, p.ring.dataOff);
      return p;
    }
    const cases: [string, (dv: DataView, at: number) => void][] = [
      ['len8 past the readable bytes', (dv, at) => dv.setUint16(at + 4, 8, true)],
      ['len8 past the ring', (dv, at) => dv.setUint16(at + 4, 0xffff, true)],
      ['len8 shorter than a descriptor', (dv, at) => dv.setUint16(at + 4, 1, true)],
      ['offset8 past len8', (dv, at) => dv.setUint16(at + 2, 9, true)],
      ['offset8 inside the descriptor', (dv, at) => dv.setUint16(at + 2, 1, true)],
      ['write_index outside the data area', (dv, at) => dv.setUint32(at - 4096 + 0, 4096, true)],
      ['write_index not a multiple of 8', (dv, at) => dv.setUint32(at - 4096 + 0, 60, true)],
    ];
    test.each(cases)('%s', (_name, poke) => {
      const p = withOnePacket(poke);
      expect(() => p.reader.next()).toThrow(corrupt);
      expect(p.rc.get('ring_corrupt')).toBe(1);
      expect(() => p.reader.next()).toThrow(corrupt);
      expect(p.reader.pending()).toBe(0);
    });

    test('a read_index outside the data area fails the writer', () => {
      const p = ringPair(1);
      const x = new Uint8Array(1000);
      while (p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 0, 0, x, 0, 1000));
      p.ring.store(RING_READ_INDEX, 5000);
      expect(() => p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 0, 0, x, 0, 1000)).toThrow(corrupt);
      expect(p.wc.get('ring_corrupt')).toBe(1);
      expect(() => p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 0, 0, x, 0, 8)).toThrow(corrupt);
    });

    test('corrupt indexes at open are refused', () => {
      const p = ringPair(1);
      p.ring.store(RING_WRITE_INDEX, 12);
      expect(() => p.reopen()).toThrow(corrupt);
    });
  });

  test('a closed writer throws CHANNEL_CLOSED and counts the attempt', () => {
    const p = ringPair();
    p.writer.close('CHANNEL_CLOSED');
    expect(() => p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, 0, 0, new Uint8Array(8), 0, 8)).toThrow(
      expect.objectContaining({ code: 'CHANNEL_CLOSED' }),
    );
    expect(p.wc.get('closed_writes')).toBe(1);
    expect(RING_INTERRUPT_MASK).toBe(8);
  });

  ftest.prop([fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 511 })])(
    'any interleaving of writes and batched reads delivers every packet once, in order',
    (ops, start) => {
      const p = ringPair(1, start * 8);
      const buf = new Uint8Array(600);
      const queue: number[] = [];
      let seq = 0;
      for (const [len, reads] of ops) {
        if (p.writer.tryWritePacket(VM_PKT_DATA_INBAND, 0, seq, len, pattern(seq, len, buf), 0, len)) queue.push(seq++);
        p.writer.flush();
        for (let i = 0; i < reads && p.reader.next(); i++) {
          const k = p.reader.packet;
          expect(k.transIdLo).toBe(queue.shift());
          expect(k.buf.subarray(16, 16 + k.transIdHi)).toEqual(pattern(k.transIdLo, k.transIdHi));
        }
        p.reader.commitRead();
      }
      while (p.reader.next()) expect(p.reader.packet.transIdLo).toBe(queue.shift());
      expect(queue).toEqual([]);
    },
  );
});
