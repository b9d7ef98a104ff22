import { describe, expect, test } from 'vitest';
import { MSG_DIR_TX, MSG_LAYER_RNDIS } from '../../core/index.js';
import { emitNvsp, writePpi, writeRndisPacketHeader, IEEE_8021Q_INFO, NBL_HASH_VALUE, NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, RNDIS_PKTINFO_ID, packPktinfoId, TCP_LARGESEND_PKTINFO, TCPIP_CHKSUM_PKTINFO } from '../../wire/index.js';
import { bringUp } from './bring-up.test.js';
import type { RxMeta } from './index.js';

const frame = (seq: number, len: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (seq * 31 + i * 7 + 1) & 0xff);

async function ready(go = {}, ho = {}) {
  const r = await bringUp(ho, go);
  await r.host.pump(r.dev.open());
  const got: { bytes: number[]; meta: RxMeta }[] = [];
  r.dev.onReceive = (u8, off, len, meta) => got.push({ bytes: [...u8.subarray(off, off + len)], meta: { ...meta } });
  return { ...r, got };
}

describe('TX (§4.4–4.6)', () => {
  test('the hash, VLAN and checksum or LSO PPIs carry meta\'s u32 values, top bits included (§5.4 order)', async () => {
    const rndis: number[][] = [];
    const observer = { message: (dir: number, _q: number, layer: number, b: Uint8Array, off: number, len: number) => void (dir === MSG_DIR_TX && layer === MSG_LAYER_RNDIS && rndis.push([...b.subarray(off, off + len)])) };
    const { host, dev } = await ready({ observer });
    const f = frame(1, 100);
    expect(dev.send(f, 0, f.length, { flags: 1 | 2 | 4, hash: 0xfedcba98, vlan: 0x0000a123, csum: 0x00220009, lso: 0 })).toBe(true);
    expect(dev.send(f, 0, f.length, { flags: 1 | 8, hash: 0x40000001, vlan: 0, csum: 0, lso: 0xc00005b4 })).toBe(true);
    await host.settle();
    const ppis = (m: number[]): number[][] => {
      const dv = new DataView(Uint8Array.from(m).buffer);
      const out: number[][] = [];
      for (let at = 8 + dv.getUint32(8 + 20, true), end = at + dv.getUint32(8 + 24, true); at < end; at += dv.getUint32(at, true)) out.push([dv.getUint32(at + 4, true), dv.getUint32(at + 12, true)]);
      return out;
    };
    const sent = rndis.filter((m) => m[0] === 1); // RNDIS_MSG_PACKET
    expect(sent.map(ppis)).toEqual([
      [[NBL_HASH_VALUE, 0xfedcba98], [IEEE_8021Q_INFO, 0xa123], [TCPIP_CHKSUM_PKTINFO, 0x00220009]],
      [[NBL_HASH_VALUE, 0x40000001], [TCP_LARGESEND_PKTINFO, 0xc00005b4]],
    ]);
  });

  test('a burst of small frames is packed into few sections: far fewer VMBus packets than frames', async () => {
    const { host, dev } = await ready();
    const frames = Array.from({ length: 40 }, (_, i) => frame(i, 60 + i));
    frames.forEach((f, i) => expect(dev.send(f, 0, f.length, null, i < frames.length - 1)).toBe(true));
    await host.settle();
    expect(host.frames.map((f) => [...f.bytes])).toEqual(frames.map((f) => [...f]));
    expect(host.dataInband).toBe(5); // max_pkt 8 → 40 frames in 5 packets
    expect(host.dataGpa).toBe(0);
    expect(dev.stats()['tx_queue_0_packets']).toBe(40);
  });

  test('a frame larger than a section goes GPA-direct from the page pool and arrives intact', async () => {
    const { host, dev } = await ready({ mtu: 9000 });
    const big = frame(7, 7000);
    expect(dev.send(big, 0, big.length)).toBe(true);
    await host.settle();
    expect(host.dataGpa).toBe(1);
    expect([...host.frames[0]!.bytes]).toEqual([...big]);
  });

  test('with every section busy the frame goes GPA-direct (tx_send_full), and completions free sections', async () => {
    const { host, dev } = await ready({ txSections: 10 });
    host.holdSendCompletions = true;
    for (let i = 0; i < 10; i++) expect(dev.send(frame(i, 100), 0, 100)).toBe(true);
    await host.settle();
    expect(dev.send(frame(10, 100), 0, 100)).toBe(true);
    await host.settle();
    expect(dev.stats()['tx_send_full']).toBe(1);
    expect(host.dataGpa).toBe(1);
    expect(host.frames.map((f) => [...f.bytes])).toEqual(Array.from({ length: 11 }, (_, i) => [...frame(i, 100)]));
    host.releaseSends();
    await host.settle();
    expect(dev.att.sections.inUse).toBe(0);
  });

  test('batches of MTU frames that fill every section go GPA-direct (tx_send_full) before the queue stops', async () => {
    // Partial copies take pool slots too; half the pool stays for frames that find no section.
    const { host, dev } = await ready({ txSections: 10, poolSlots: 8 });
    host.holdSendCompletions = true;
    const pool = dev.att.pools[0]!;
    let accepted = 0;
    while (dev.send(frame(accepted, 1514), 0, 1514, null, true)) accepted++;
    // Refused only once both the sections and the pool were exhausted (§4.3, §4.6).
    expect(dev.att.sections.inUse).toBe(10);
    expect(pool.available).toBe(0);
    expect(dev.stats()['tx_send_full']).toBeGreaterThanOrEqual(4);
    expect(dev.stats()['stop_queue']).toBe(1);
    expect(accepted).toBeGreaterThan(3 * 10 + 4);
    dev.flush();
    await host.settle();
    expect(host.dataGpa).toBeGreaterThanOrEqual(4 + 4); // partial copies + GPA-direct frames
    host.releaseSends();
    await host.settle();
    for (let i = accepted; i < accepted + 5; i++) expect(dev.send(frame(i, 1514), 0, 1514, null, i < accepted + 4)).toBe(true);
    await host.settle();
    host.releaseSends();
    await host.settle();
    expect(host.frames.map((f) => [...f.bytes])).toEqual(Array.from({ length: accepted + 5 }, (_, i) => [...frame(i, 1514)]));
    expect(dev.att.sections.inUse).toBe(0);
    expect(pool.available).toBe(8);
  });

  test('partial copy: a frame that no longer fits the open batch sends its header in the section and its data as a range', async () => {
    const { host, dev } = await ready({ mtu: 9000 });
    const a = frame(1, 3000);
    const b = frame(2, 4000);
    expect(dev.send(a, 0, a.length, null, true)).toBe(true);
    expect(dev.send(b, 0, b.length, null, false)).toBe(true);
    await host.settle();
    expect(host.dataGpa).toBe(1);
    expect(host.dataInband).toBe(0);
    expect(host.frames.map((f) => [...f.bytes])).toEqual([[...a], [...b]]);
  });

  test('out of page-buffer slots and sections the queue stops, send() returns false, then wakes: nothing lost', async () => {
    const { host, dev } = await ready({ txSections: 10, poolSlots: 1 });
    host.holdSendCompletions = true;
    const sent: number[] = [];
    let woke = 0;
    dev.onWritable = () => woke++;
    let refused = 0;
    for (let i = 0; i < 14; i++) {
      if (dev.send(frame(i, 100), 0, 100)) sent.push(i);
      else refused++;
    }
    expect(sent).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(refused).toBe(3);
    expect(dev.stats()['stop_queue']).toBeGreaterThan(0);
    expect(dev.stats()['tx_busy']).toBe(3);
    await host.settle();
    host.releaseSends();
    await host.settle();
    expect(woke).toBeGreaterThan(0);
    expect(dev.stats()['wake_queue']).toBeGreaterThan(0);
    for (let i = 11; i < 14; i++) expect(dev.send(frame(i, 100), 0, 100)).toBe(true);
    await host.settle();
    expect(host.frames.map((f) => [...f.bytes])).toEqual(Array.from({ length: 14 }, (_, i) => [...frame(i, 100)]));
  });

  test('unknown and duplicate completion ids are rejected and counted', async () => {
    const { host, dev } = await ready();
    const body = new Uint8Array(40);
    emitNvsp({ type: NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, status: 1 }, new DataView(body.buffer), 0);
    host.sendCompletion(9999, body.subarray(0, 8));
    host.sendCompletion(0, body.subarray(0, 8));
    await host.settle();
    expect(dev.stats()['comp_bad_id']).toBe(2);
    expect(dev.send(frame(1, 64), 0, 64)).toBe(true);
    await host.settle();
    expect(host.frames).toHaveLength(1);
  });
});

describe('RX (§3.8, §5.6, §8 items 21–39)', () => {
  test('frames arrive in order, from the receive buffer, and each transfer-page packet is completed SUCCESS', async () => {
    const { host, dev, got } = await ready();
    const frames = [frame(1, 60), frame(2, 1514), frame(3, 200)];
    const tid = host.sendFrames(frames);
    await host.settle();
    expect(got.map((g) => g.bytes)).toEqual(frames.map((f) => [...f]));
    expect(host.completions.get(tid)).toBe(1);
    expect(dev.stats()['rx_queue_0_packets']).toBe(3);
  });

  const goodAfter = async (host: Awaited<ReturnType<typeof ready>>['host'], got: Awaited<ReturnType<typeof ready>>['got']) => {
    const n = got.length;
    const tid = host.sendFrames([frame(9, 100)]);
    await host.settle();
    expect(got.length).toBe(n + 1);
    expect(host.completions.get(tid)).toBe(1);
  };

  test.each([
    ['item 21/22: NVSP type is not 107', { nvspType: 100 }, 'rx_bad_nvsp'],
    ['item 21: no NVSP message', { nvspLen: 0 }, 'rx_bad_nvsp'],
    ['item 24: pageset id is not 0xCAFE', { pageset: 0xbeef }, 'rx_bad_pageset'],
    ['item 25: range_cnt runs past offset8', { rangeCount: 50 }, 'rx_bad_xfer_header'],
    ['item 23: offset8 below 24', { headerLen: 16 }, 'rx_bad_xfer_header'],
  ] as const)('%s → counted, completed with FAIL (unlike Linux), good traffic still flows', async (_n, patch, counter) => {
    const { host, dev, got } = await ready();
    const at = host.place(new Uint8Array(64));
    const tid = host.sendXfer([{ off: at, len: 64 }], 0, patch);
    await host.settle();
    expect(dev.stats()[counter]).toBe(1);
    expect(host.completions.get(tid)).toBe(2);
    await goodAfter(host, got);
  });

  const rndisPacket = (dataLen: number, mutate: (dv: DataView) => void = () => {}, ppis = 0): Uint8Array => {
    const b = new Uint8Array(44 + 16 * ppis + dataLen);
    const dv = new DataView(b.buffer);
    writeRndisPacketHeader(dv, 0, ppis, dataLen);
    mutate(dv);
    return b;
  };

  test.each([
    ['item 26: range outside the receive buffer', (_h: { place(b: Uint8Array): number }) => [{ off: 0x7ffffff0, len: 64 }], 'rx_bad_range'],
    ['item 27: range longer than a section', (h: { place(b: Uint8Array): number }) => [{ off: h.place(rndisPacket(10)), len: 4000 }], 'rx_range_too_big'],
    ['item 29: range shorter than 8', (h: { place(b: Uint8Array): number }) => [{ off: h.place(rndisPacket(10)), len: 4 }], 'rx_bad_rndis'],
    ['item 30: msg_len past the range', (h: { place(b: Uint8Array): number }) => [{ off: h.place(rndisPacket(10, (dv) => dv.setUint32(4, 500, true))), len: 54 }], 'rx_bad_rndis'],
    ['item 31: KEEPALIVE is not handled', (h: { place(b: Uint8Array): number }) => [{ off: h.place(Uint8Array.of(8, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0)), len: 12 }], 'rx_unknown_rndis'],
    ['item 32: data_len past the message', (h: { place(b: Uint8Array): number }) => [{ off: h.place(rndisPacket(10, (dv) => dv.setUint32(12, 400, true))), len: 54 }], 'rx_bad_rndis'],
    ['item 33: PPI area outside the message', (h: { place(b: Uint8Array): number }) => [{ off: h.place(rndisPacket(10, (dv) => (dv.setUint32(28, 36, true), dv.setUint32(32, 300, true)))), len: 54 }], 'rx_bad_rndis'],
    ['item 33: a zero-size PPI stops the walk (no spin)', (h: { place(b: Uint8Array): number }) => [{ off: h.place(rndisPacket(10, (dv) => dv.setUint32(44, 0, true), 1)), len: 70 }], 'rx_bad_rndis'],
    [
      'item 34: an RSC fragment without a first fragment',
      (h: { place(b: Uint8Array): number }) => [{ off: h.place(rndisPacket(10, (dv) => writePpi(dv, 44, RNDIS_PKTINFO_ID, 1, packPktinfoId(1, 1 | 4, 7)), 1)), len: 70 }],
      'rx_bad_rsc',
    ],
    [
      'item 34: fragments that would span transfer-page packets',
      (h: { place(b: Uint8Array): number }) => [{ off: h.place(rndisPacket(10, (dv) => writePpi(dv, 44, RNDIS_PKTINFO_ID, 1, packPktinfoId(1, 1 | 2, 7)), 1)), len: 70 }],
      'rx_bad_rsc',
    ],
  ] as const)('%s → range fails, counted, packet completed FAIL, nothing delivered', async (_n, build, counter) => {
    const { host, dev, got } = await ready();
    const tid = host.sendXfer(build(host));
    await host.settle();
    expect(dev.stats()[counter]).toBe(1);
    expect(host.completions.get(tid)).toBe(2);
    expect(got).toHaveLength(0);
    await goodAfter(host, got);
  });

  test('RSC fragments of one packet are reassembled into one frame with the first fragment metadata (§5.6)', async () => {
    const { host, got } = await ready();
    const parts = [frame(1, 300), frame(2, 400), frame(3, 50)];
    const flags = [1 | 2, 1, 1 | 4];
    const ranges = parts.map((p, i) => {
      const b = new Uint8Array(44 + 16 + p.length);
      const dv = new DataView(b.buffer);
      writeRndisPacketHeader(dv, 0, 1, p.length);
      writePpi(dv, 44, RNDIS_PKTINFO_ID, 1, packPktinfoId(1, flags[i]!, 5));
      b.set(p, 60);
      return { off: host.place(b), len: b.length };
    });
    const tid = host.sendXfer(ranges);
    await host.settle();
    expect(got).toHaveLength(1);
    expect(got[0]!.bytes).toEqual([...parts[0]!, ...parts[1]!, ...parts[2]!]);
    expect(got[0]!.meta.fragments).toBe(3);
    expect(host.completions.get(tid)).toBe(1);
  });

  test('link indications: disconnect and connect change the link and are reported', async () => {
    const { host, dev } = await ready();
    const seen: boolean[] = [];
    dev.onLinkChange = (up) => seen.push(up);
    host.sendControl({ ndisMsgType: 7, msgLen: 20, status: 0x4001000c, statusBuflen: 0, statusBufOffset: 0 });
    host.sendControl({ ndisMsgType: 7, msgLen: 20, status: 0x4001000b, statusBuflen: 0, statusBufOffset: 0 });
    await host.settle();
    expect(seen).toEqual([false, true]);
  });

  test('send indirection table: 16 entries accepted, a wrong count ignored (§3.9, §8 item 18)', async () => {
    const { host, dev } = await ready();
    const msg = new Uint8Array(12 + 64);
    const dv = new DataView(msg.buffer);
    dv.setUint32(0, 134, true);
    dv.setUint32(4, 16, true);
    dv.setUint32(8, 12, true);
    for (let i = 0; i < 16; i++) dv.setUint32(12 + 4 * i, 15 - i, true);
    host.sendInband(msg);
    await host.settle();
    expect([...dev.txTable]).toEqual(Array.from({ length: 16 }, (_, i) => 15 - i));
    dv.setUint32(4, 8, true);
    host.sendInband(msg);
    await host.settle();
    expect(dev.stats()['send_table_bad']).toBe(1);
    // an offset that puts the table past the message (76 B, padded to 80 on the ring): ignored, table unchanged
    dv.setUint32(4, 16, true);
    dv.setUint32(8, 17, true);
    host.sendInband(msg);
    await host.settle();
    expect(dev.stats()['send_table_bad']).toBe(2);
    expect([...dev.txTable]).toEqual(Array.from({ length: 16 }, (_, i) => 15 - i));
  });
});
