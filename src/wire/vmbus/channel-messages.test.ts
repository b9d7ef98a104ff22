import { fc, test as ftest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { emitChannelMessage, gpadlMessages, HV_NIC_GUID, parseChannelMessage, type ChannelMessage } from './channel-messages.js';

/** Builds message bytes from (offset, width, value) triples, independently of the codec. */
function bytes(size: number, fields: [number, 1 | 2 | 4, number][], raw: [number, number[]][] = []): Uint8Array {
  const u8 = new Uint8Array(size);
  for (const [at, w, v] of fields) for (let i = 0; i < w; i++) u8[at + i] = (v >>> (8 * i)) & 0xff;
  for (const [at, list] of raw) u8.set(list, at);
  return u8;
}

// {f8615163-df3e-46c5-913f-f2d2f965ed0e} in Windows GUID byte order.
const NIC_GUID_BYTES = [0x63, 0x51, 0x61, 0xf8, 0x3e, 0xdf, 0xc5, 0x46, 0x91, 0x3f, 0xf2, 0xd2, 0xf9, 0x65, 0xed, 0x0e];
const INSTANCE = '01020304-0506-0708-090a-0b0c0d0e0f10';
const INSTANCE_BYTES = [4, 3, 2, 1, 6, 5, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16];
const zeros = new Uint8Array(120);

const cases: [string, ChannelMessage, Uint8Array][] = [
  [
    'OFFERCHANNEL (196 B)',
    { msgtype: 1, ifType: HV_NIC_GUID, ifInstance: INSTANCE, chnFlags: 0, mmioMegabytes: 0, userDefined: zeros, subChannelIndex: 3, childRelid: 17, monitorId: 5, monitorAllocated: true, isDedicatedInterrupt: false, connectionId: 0x11223344 },
    bytes(196, [[0, 4, 1], [180, 2, 3], [184, 4, 17], [188, 1, 5], [189, 1, 1], [192, 4, 0x11223344]], [[8, NIC_GUID_BYTES], [24, INSTANCE_BYTES]]),
  ],
  ['RESCIND_CHANNELOFFER', { msgtype: 2, childRelid: 9 }, bytes(12, [[0, 4, 2], [8, 4, 9]])],
  ['REQUESTOFFERS', { msgtype: 3 }, bytes(8, [[0, 4, 3]])],
  ['ALLOFFERS_DELIVERED', { msgtype: 4 }, bytes(8, [[0, 4, 4]])],
  [
    'OPENCHANNEL (148 B)',
    { msgtype: 5, childRelid: 7, openId: 7, ringBufferGpadlHandle: 0xe1e10, targetVp: 1, downstreamRingBufferPageOffset: 128, userData: zeros },
    bytes(148, [[0, 4, 5], [8, 4, 7], [12, 4, 7], [16, 4, 0xe1e10], [20, 4, 1], [24, 4, 128]]),
  ],
  ['OPENCHANNEL_RESULT', { msgtype: 6, childRelid: 7, openId: 7, status: 0xc0000001 }, bytes(20, [[0, 4, 6], [8, 4, 7], [12, 4, 7], [16, 4, 0xc0000001]])],
  ['CLOSECHANNEL', { msgtype: 7, childRelid: 4 }, bytes(12, [[0, 4, 7], [8, 4, 4]])],
  [
    'GPADL_HEADER with 2 PFNs',
    { msgtype: 8, childRelid: 2, gpadl: 0x100, rangeBufLen: 24, rangeCount: 1, byteCount: 8192, byteOffset: 0, pfns: [0x1234, 0x100000005] },
    bytes(44, [[0, 4, 8], [8, 4, 2], [12, 4, 0x100], [16, 2, 24], [18, 2, 1], [20, 4, 8192], [28, 4, 0x1234], [36, 4, 5], [40, 4, 1]]),
  ],
  ['GPADL_BODY', { msgtype: 9, msgNumber: 1, gpadl: 0x100, pfns: [77] }, bytes(24, [[0, 4, 9], [8, 4, 1], [12, 4, 0x100], [16, 4, 77]])],
  ['GPADL_CREATED', { msgtype: 10, childRelid: 2, gpadl: 0x100, creationStatus: 0 }, bytes(20, [[0, 4, 10], [8, 4, 2], [12, 4, 0x100]])],
  ['GPADL_TEARDOWN', { msgtype: 11, childRelid: 2, gpadl: 0x100 }, bytes(16, [[0, 4, 11], [8, 4, 2], [12, 4, 0x100]])],
  ['GPADL_TORNDOWN', { msgtype: 12, gpadl: 0x100 }, bytes(12, [[0, 4, 12], [8, 4, 0x100]])],
  ['RELID_RELEASED', { msgtype: 13, childRelid: 5 }, bytes(12, [[0, 4, 13], [8, 4, 5]])],
];

describe('channel messages', () => {
  test.each(cases)('%s emits and parses at the offsets of §2.12–2.13', (_n, msg, wire) => {
    expect(emitChannelMessage(msg)).toEqual(wire);
    expect(parseChannelMessage(wire)).toEqual(msg);
  });

  test('gpadlMessages() splits 60 PFNs into a header of 26 and bodies of 28 and 6, each ≤ 240 B', () => {
    const pfns = Array.from({ length: 60 }, (_, i) => 100 + i);
    const msgs = gpadlMessages(3, 9, pfns);
    expect(msgs.map((m) => emitChannelMessage(m).length)).toEqual([28 + 26 * 8, 16 + 28 * 8, 16 + 6 * 8]);
    const back = msgs.map((m) => parseChannelMessage(emitChannelMessage(m)));
    const got = back.flatMap((m) => ('pfns' in m ? m.pfns : []));
    expect(got).toEqual(pfns);
    expect(back[0]).toMatchObject({ rangeBufLen: 8 + 60 * 8, byteCount: 60 * 4096 });
  });

  test('short, oversized, unknown and malformed messages fail with WireError codes', () => {
    const code = (c: string) => expect.objectContaining({ code: c });
    expect(() => parseChannelMessage(new Uint8Array(4))).toThrow(code('TRUNCATED'));
    expect(() => parseChannelMessage(bytes(100, [[0, 4, 1]]))).toThrow(code('TRUNCATED'));
    expect(() => parseChannelMessage(bytes(241, [[0, 4, 3]]))).toThrow(code('MALFORMED'));
    expect(() => parseChannelMessage(bytes(8, [[0, 4, 99]]))).toThrow(code('UNSUPPORTED'));
    expect(() => parseChannelMessage(bytes(36, [[0, 4, 8], [16, 2, 16], [18, 2, 2]]))).toThrow(code('MALFORMED'));
    expect(() => parseChannelMessage(bytes(28, [[0, 4, 8], [16, 2, 16], [18, 2, 1]]))).toThrow(code('TRUNCATED'));
    expect(() => parseChannelMessage(bytes(20, [[0, 4, 9]]))).toThrow(code('TRUNCATED'));
  });

  ftest.prop([fc.uint8Array({ minLength: 0, maxLength: 240 })])('random bytes fail only with WireError', (u8) => {
    try {
      parseChannelMessage(u8);
    } catch (e) {
      expect((e as Error).name).toBe('WireError');
    }
  });
});
