import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { FRAME_F_NEEDS_CSUM, FRAME_GSO_ECN, FRAME_GSO_TCPV4, FRAME_GSO_UDP_L4, newFrameMeta, type FrameMeta } from '../../core/index.js';
import { readVnetHeader, vnetHeaderValid, writeVnetHeader } from './vnet-header.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const arbMeta = fc.record({ flags: fc.integer({ min: 0, max: 255 }), gsoType: fc.integer({ min: 0, max: 255 }), hdrLen: u16, gsoSize: u16, csumStart: u16, csumOffset: u16 });

describe('virtio-net header', () => {
  test('readVnetHeader() decodes little-endian fields at their offsets (hand-built bytes)', () => {
    // A TCPv4 TSO super-frame as Linux hands it over: NEEDS_CSUM, csum 34+16, MSS 1448, headers 66.
    const b = Uint8Array.from([0xee, 0x01, 0x01, 0x42, 0x00, 0xa8, 0x05, 0x22, 0x00, 0x10, 0x00, 0x00, 0x00]);
    const m = newFrameMeta();
    readVnetHeader(b, 1, m);
    expect(m).toEqual({ flags: 1, gsoType: 1, hdrLen: 0x0042, gsoSize: 0x05a8, csumStart: 0x0022, csumOffset: 0x0010 } satisfies FrameMeta);
  });

  test.prop([arbMeta, fc.constantFrom(10, 12), fc.integer({ min: 0, max: 16 })])('writeVnetHeader() then readVnetHeader() gives the fields back', (meta, hdrLen, at) => {
    const b = new Uint8Array(at + hdrLen + 4).fill(0xaa);
    writeVnetHeader(b, at, hdrLen, meta);
    const back = newFrameMeta();
    readVnetHeader(b, at, back);
    expect(back).toEqual(meta);
    expect(b[at + hdrLen]).toBe(0xaa); // nothing written past the header
    if (hdrLen === 12) expect([b[at + 10], b[at + 11]]).toEqual([0, 0]);
  });

  test('vnetHeaderValid() accepts ordinary, partial-checksum and GSO frames and rejects the rest', () => {
    const m = newFrameMeta();
    expect(vnetHeaderValid(m, 60)).toBe(true);
    Object.assign(m, { flags: FRAME_F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 });
    expect(vnetHeaderValid(m, 42)).toBe(true);
    expect(vnetHeaderValid(m, 41)).toBe(false); // checksum field past the end
    Object.assign(m, { gsoType: FRAME_GSO_TCPV4 | FRAME_GSO_ECN, gsoSize: 1448 });
    expect(vnetHeaderValid(m, 9000)).toBe(true);
    Object.assign(m, { gsoType: FRAME_GSO_UDP_L4, gsoSize: 0 });
    expect(vnetHeaderValid(m, 9000)).toBe(false); // GSO without a segment size
    Object.assign(m, { gsoType: 2, gsoSize: 100 });
    expect(vnetHeaderValid(m, 9000)).toBe(false); // unknown GSO type
    Object.assign(m, { gsoType: FRAME_GSO_ECN, gsoSize: 0 });
    expect(vnetHeaderValid(m, 9000)).toBe(false); // ECN without a GSO type
    Object.assign(m, { gsoType: 0, flags: 0x04 });
    expect(vnetHeaderValid(m, 9000)).toBe(false); // unknown flag
  });

  test('writeVnetHeader() with a shift moves hdr_len and a partial checksum start only', () => {
    const b = new Uint8Array(10);
    const m = newFrameMeta();
    Object.assign(m, { flags: FRAME_F_NEEDS_CSUM, hdrLen: 54, csumStart: 34, csumOffset: 16 });
    writeVnetHeader(b, 0, 10, m, 4);
    expect([b[2], b[6], b[8]]).toEqual([58, 38, 16]);
    Object.assign(m, { flags: 0, hdrLen: 0, csumStart: 34 }); // no GSO headers, no partial checksum: nothing to shift
    writeVnetHeader(b, 0, 10, m, 4);
    expect([b[2], b[6]]).toEqual([0, 34]);
  });
});
