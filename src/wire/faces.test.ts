// The control-path and data-path faces over the golden vectors, plus property tests:
// parse(emit(x)) = x for random messages, and random or mutated bytes only ever throw WireError.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fc, test as prop } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { WireError } from '../core/index.js';
import {
  GpaRangeIterator,
  NBL_HASH_VALUE,
  PPI_CSUM,
  PPI_HASH,
  PpiSlots,
  RndisPacketView,
  TCPIP_CHKSUM_PKTINFO,
  TransferPageView,
  decodeStruct,
  emitNvsp,
  emitRndis,
  emitRssParams,
  hexToBytes,
  bytesToHex,
  nvspSize,
  packCsumTx,
  packLsoV2Tx,
  packVlan,
  parseNvsp,
  parseRndis,
  parseRssParams,
  rndisMessageSize,
  rssParamsLength,
  vlanId,
  lsoMss,
  lsoTcpHeaderOffset,
  lsoIpv6,
  walkPpis,
  writePpi,
  writeRndisPacketHeader,
  type NdisRecvScaleParams,
} from './index.js';

interface Rec {
  readonly id: string;
  readonly layer: string;
  readonly message: string;
  readonly hex: string;
}
const records: Rec[] = readFileSync(resolve(import.meta.dirname, '../../test/vectors/wire.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Rec);
const byId = (id: string) => hexToBytes(records.find((r) => r.id === id)!.hex);
const dvOf = (u8: Uint8Array) => new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
const isCompletion = (r: Rec) => /complete|comp\./.test(r.message);

describe('parseNvsp()/emitNvsp()', () => {
  const nvsp = records.filter((r) => r.layer === 'nvsp');
  test.each(nvsp.map((r) => [r.id, r] as const))('parseNvsp() then emitNvsp() gives back the bytes of %s', (_id, r) => {
    const u8 = hexToBytes(r.hex);
    const msg = parseNvsp(dvOf(u8), 0, u8.length, { completion: isCompletion(r) });
    const out = new Uint8Array(nvspSize(msg));
    expect(emitNvsp(msg, dvOf(out), 0)).toBe(u8.length);
    expect(bytesToHex(out)).toBe(r.hex);
  });

  test('parseNvsp() names fields in camelCase and discriminates on type', () => {
    const m = parseNvsp(dvOf(byId('nvsp.send_rndis_pkt.control')), 0, 40);
    expect(m).toEqual({ type: 107, channelType: 1, sendBufSectionIndex: 0xffffffff, sendBufSectionSize: 0 });
    const c = parseNvsp(dvOf(byId('nvsp.subchannel.complete')), 0, 40, { completion: true });
    expect(c).toEqual({ type: 133, completion: true, status: 1, numSubchannels: 23 });
  });

  test('parseNvsp() rejects a send table whose entries run past the message', () => {
    const u8 = byId('nvsp.send_indirection_table');
    expect(() => parseNvsp(dvOf(u8), 0, 80)).toThrow(WireError);
  });

  // For every NVSP kind: random field values (bytes 4..39 random, counts kept) parse, emit, parse the same.
  prop.prop([fc.constantFrom(...nvsp.filter((r) => r.message !== 'nvsp_6_pd_batch_msg')), fc.uint8Array({ minLength: 36, maxLength: 36 })])(
    'emitNvsp() then parseNvsp() gives the message back for random field values',
    (r, noise) => {
      const u8 = hexToBytes(r.hex);
      const keep = r.message.includes('pd_api') ? 8 : r.message.includes('complete') && u8[0] === 102 ? 12 : u8[0] === 134 ? 12 : 4;
      for (let i = keep; i < 40; i++) u8[i] = noise[i - 4]!;
      if (u8[0] === 102) u8.fill(0, 8, 12), (u8[8] = 1);
      const opts = { completion: isCompletion(r) };
      let msg;
      try {
        msg = parseNvsp(dvOf(u8), 0, u8.length, opts);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        return;
      }
      const out = new Uint8Array(nvspSize(msg));
      emitNvsp(msg, dvOf(out), 0);
      expect(parseNvsp(dvOf(out), 0, out.length, opts)).toEqual(msg);
    },
  );
});

describe('parseRndis()/emitRndis()', () => {
  test.each(records.filter((r) => r.layer === 'rndis').map((r) => [r.id, r] as const))('parseRndis() then emitRndis() gives back the bytes of %s', (_id, r) => {
    const u8 = hexToBytes(r.hex);
    const hint = r.message.endsWith('+ndis_offload') ? { info: 'hwcaps' as const } : r.message.endsWith('+ndis_recv_scale_cap') ? { info: 'rsscap' as const } : {};
    const msg = parseRndis(dvOf(u8), 0, u8.length, hint);
    const out = new Uint8Array(rndisMessageSize(msg));
    emitRndis(msg, dvOf(out), 0);
    expect(bytesToHex(out)).toBe(r.hex);
  });

  // INIT (type 2) has no status field; its round trip is the vectors'.
  prop.prop([fc.nat(0xffffffff), fc.nat(0xffffffff), fc.constantFrom(0x80000005, 0x80000008)])('emitRndis() then parseRndis() gives back a random completion', (reqId, status, type) => {
    const msg = { ndisMsgType: type, msgLen: 16, reqId, status } as const;
    const out = new Uint8Array(16);
    emitRndis(msg as never, dvOf(out), 0);
    expect(parseRndis(dvOf(out), 0, 16)).toEqual(msg);
  });
});

describe('RSS parameters', () => {
  prop.prop([fc.array(fc.nat(63), { minLength: 1, maxLength: 128 }), fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.boolean()])(
    'emitRssParams() then parseRssParams() finds table and key wherever the offsets put them',
    (itab, key, keyFirst) => {
      const tabOffset = keyFirst ? 40 + 40 : 40;
      const keyOffset = keyFirst ? 40 : 40 + 4 * itab.length;
      const p: NdisRecvScaleParams = {
        hdr: { type: 137, rev: 2, size: 40 },
        flag: 0,
        baseCpuNumber: 0,
        hashinfo: 0x1701,
        indirectTabsize: 4 * itab.length,
        indirectTaboffset: tabOffset,
        hashkeySize: 40,
        hashkeyOffset: keyOffset,
        processorMasksOffset: 0,
        numProcessorMasks: 0,
        processorMasksEntrySize: 0,
        itab,
        keyp: key,
      };
      const out = new Uint8Array(rssParamsLength(p));
      emitRssParams(p, dvOf(out), 0);
      expect(parseRssParams(dvOf(out), 0, out.length)).toEqual(p);
    },
  );
});

describe('PPI values and the data-path walker', () => {
  prop.prop([fc.nat(0xfffff), fc.nat(0x3ff), fc.boolean()])('packLsoV2Tx() fields unpack to what went in', (mss, off, v6) => {
    const v = packLsoV2Tx(mss, off, v6);
    expect([lsoMss(v), lsoTcpHeaderOffset(v), lsoIpv6(v)]).toEqual([mss, off, v6]);
  });

  test('the value helpers agree with the golden PPI vectors', () => {
    expect(packCsumTx(true, false, true, false, false, 34)).toBe(2228229);
    expect(packLsoV2Tx(1448, 34, false)).toBe(1109394856);
    expect(packVlan(1, 1, 2367)).toBe(37881);
    expect(vlanId(65511)).toBe(4094);
  });

  test('RndisPacketView.bind() and readPpis() read composite.c: hash then checksum, data at 76', () => {
    const u8 = byId('composite.c.rndis_packet_csum_hash');
    const v = new RndisPacketView().bind(dvOf(u8), 0, u8.length);
    const slots = new PpiSlots();
    expect(v.readPpis(slots)).toBe(2);
    expect(slots.present).toBe(PPI_CSUM | PPI_HASH);
    expect(slots.hash).toBe(2720281448);
    expect(slots.csum).toBe(2228229);
    expect([v.dataStart, v.dataLength]).toEqual([76, 60]);
  });

  test('writeRndisPacketHeader() and writePpi() lay out composite.c byte for byte', () => {
    const want = byId('composite.c.rndis_packet_csum_hash');
    const out = new Uint8Array(want.length);
    const dv = dvOf(out);
    let p = writeRndisPacketHeader(dv, 0, 2, 60);
    p = writePpi(dv, p, NBL_HASH_VALUE, 0, 2720281448);
    p = writePpi(dv, p, TCPIP_CHKSUM_PKTINFO, 0, packCsumTx(true, false, true, false, false, 34));
    out.set(want.subarray(p), p);
    expect(bytesToHex(out)).toBe(bytesToHex(want));
  });

  test('walkPpis() rejects a zero-size element instead of looping', () => {
    const u8 = new Uint8Array(32);
    expect(() => walkPpis(dvOf(u8), 0, 32, new PpiSlots())).toThrow(/does not advance/);
  });
});

describe('VMBus views', () => {
  test('TransferPageView reads the two ranges of composite.d', () => {
    const u8 = byId('composite.d.xfer_page_2ranges');
    const v = new TransferPageView().bind(dvOf(u8), 0, u8.length);
    expect([v.rangeCount, v.rangeLength(0), v.rangeOffset(0), v.rangeLength(1), v.rangeOffset(1)]).toEqual([2, 136, 0, 24, 1728]);
    expect([v.payloadStart, v.xferPagesetId]).toEqual([40, 0xcafe]);
  });

  test('GpaRangeIterator steps through variable-size ranges of composite.h', () => {
    const u8 = byId('composite.h.gpa_direct_data_lso');
    const it = new GpaRangeIterator().bind(dvOf(u8), 0, u8.length);
    const seen: number[][] = [];
    while (it.next()) seen.push([it.byteCount, it.byteOffset, it.pfnCount, it.pfnLo(it.pfnCount - 1)]);
    expect(seen).toEqual([
      [76, 1972, 1, 418283],
      [66, 194, 1, 28498509],
      [8000, 256, 2 + 1, 16293073],
    ]);
  });
});

describe('hostile bytes', () => {
  const names = [...new Set(records.map((r) => `${r.layer}:${r.message}`))];
  prop.prop([fc.constantFrom(...records), fc.array(fc.tuple(fc.nat(4095), fc.nat(255)), { maxLength: 8 }), fc.nat(200)], { numRuns: 1000 })(
    'mutated vectors only ever throw WireError, for every codec and view',
    (r, edits, cut) => {
      const u8 = hexToBytes(r.hex);
      for (const [i, b] of edits) if (u8.length) u8[i % u8.length] = b;
      const bytes = u8.subarray(0, Math.max(0, u8.length - (cut % 3 === 0 ? cut % 50 : 0)));
      const dv = dvOf(bytes);
      const attempts: Array<() => unknown> = [
        () => decodeStruct(r.message, bytes, { partial: false }, r.layer as never),
        () => decodeStruct(r.message, bytes, { partial: true }, r.layer as never),
        () => parseNvsp(dv, 0, bytes.length),
        () => parseRndis(dv, 0, bytes.length),
        () => new RndisPacketView().bind(dv, 0, bytes.length).readPpis(new PpiSlots()),
        () => new TransferPageView().bind(dv, 0, bytes.length),
        () => {
          const it = new GpaRangeIterator().bind(dv, 0, bytes.length);
          while (it.next());
        },
      ];
      for (const f of attempts) {
        try {
          f();
        } catch (e) {
          expect(e).toBeInstanceOf(WireError);
        }
      }
    },
  );

  prop.prop([fc.constantFrom(...names), fc.uint8Array({ maxLength: 300 })], { numRuns: 2000 })('random bytes only ever throw WireError', (name, bytes) => {
    try {
      decodeStruct(name, bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(WireError);
    }
  });
});
