import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { MSG_DIR_TX, MSG_LAYER_RNDIS } from '../../core/index.js';
import { emitNvsp, writePpi, writeRndisPacketHeader, IEEE_8021Q_INFO, NBL_HASH_VALUE, NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, RNDIS_PKTINFO_ID, packPktinfoId, TCP_LARGESEND_PKTINFO, TCPIP_CHKSUM_PKTINFO } from '../../wire/index.js';
import { buildTcp4Frame, FrameSpec } from '../../packet/index.js';
import { bringUp } from './bring-up.test.js';
import { gatherRx, RX_F_CSUM, RX_F_FRAGS, RX_F_HASH, RX_F_RSC, RX_F_VLAN, type RxMeta } from './index.js';

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
    await rejected(host, dev, got, build, counter, false);
  });

  /** The checks above with fragment lists on (Contract B): the same verdicts, counters and completions. */
  async function rejected(host: Awaited<ReturnType<typeof ready>>['host'], dev: Awaited<ReturnType<typeof ready>>['dev'], got: Awaited<ReturnType<typeof ready>>['got'], build: (h: { place(b: Uint8Array): number }) => readonly { off: number; len: number }[], counter: string, list: boolean, count = 1): Promise<void> {
    dev.setRxFragments(list);
    const tid = host.sendXfer(build(host));
    await host.settle();
    expect(dev.stats()[counter]).toBe(count);
    expect(host.completions.get(tid)).toBe(2);
    expect(got).toHaveLength(0);
    await goodAfter(host, got);
  }

  /** RNDIS RSC fragment messages, one per part: pktinfo id (flags[i]) and, on each, these extra PPIs [type, value]. */
  const rscMessages = (parts: readonly Uint8Array[], flags: readonly number[], ppis: readonly (readonly [number, number])[][] = []): Uint8Array[] =>
    parts.map((p, i) => {
      const extra = ppis[i] ?? [];
      const n = 1 + extra.length;
      const b = new Uint8Array(44 + 16 * n + p.length);
      const dv = new DataView(b.buffer);
      writeRndisPacketHeader(dv, 0, n, p.length);
      let at = writePpi(dv, 44, RNDIS_PKTINFO_ID, 1, packPktinfoId(1, flags[i]!, 5));
      for (const [type, v] of extra) at = writePpi(dv, at, type, 0, v);
      b.set(p, 44 + 16 * n);
      return b;
    });
  const placeAll = (host: { place(b: Uint8Array): number }, msgs: readonly Uint8Array[]) => msgs.map((b) => ({ off: host.place(b), len: b.length }));
  /** First, middle…, last flags for n fragments. */
  const rscFlags = (n: number): number[] => Array.from({ length: n }, (_, i) => 1 | (i === 0 ? 2 : 0) | (i === n - 1 ? 4 : 0));

  test.each([
    ['item 34: an RSC fragment without a first fragment', 1, (h: { place(b: Uint8Array): number }) => placeAll(h, rscMessages([frame(1, 10)], [1 | 4]))],
    ['item 34: fragments that would span transfer-page packets', 1, (h: { place(b: Uint8Array): number }) => placeAll(h, rscMessages([frame(1, 10)], [1 | 2]))],
    // the plain packet fails and resets the run, so its last fragment fails too
    ['item 34: a plain packet inside an RSC run', 2, (h: { place(b: Uint8Array): number }) => {
      const [f, m, l] = rscMessages([frame(1, 100), frame(2, 100), frame(3, 100)], [1 | 2, 1, 1 | 4]);
      const plain = new Uint8Array(44 + 60);
      writeRndisPacketHeader(new DataView(plain.buffer), 0, 0, 60);
      return placeAll(h, [f!, m!, plain, l!]);
    }],
    ['item 28: a bad range inside an RSC run resets it', 1, (h: { place(b: Uint8Array): number }) => {
      const [f, l] = rscMessages([frame(1, 100), frame(2, 100)], [1 | 2, 1 | 4]);
      return [{ off: h.place(f!), len: f!.length }, { off: 0x7ffffff0, len: 64 }, { off: h.place(l!), len: l!.length }];
    }],
    ['item 34: 44 fragments of 1600 B, more than a 64 KB packet (the reassembly bound holds for a list too)', 1, (h: { place(b: Uint8Array): number }) =>
      placeAll(h, rscMessages(Array.from({ length: 44 }, (_, i) => frame(i, 1600)), rscFlags(44)))],
  ] as const)('fragment lists on, %s → rx_bad_rsc, completed FAIL, nothing delivered', async (name, count, build) => {
    const { host, dev, got } = await ready();
    dev.onReceive = (u8, off, len, meta) => got.push({ bytes: [...gatherOut(u8, off, len, meta)], meta: { ...meta } });
    await rejected(host, dev, got, build, 'rx_bad_rsc', true, count);
    expect(dev.stats()['rx_bad_range'] ?? 0).toBe(name.includes('bad range') ? 1 : 0);
  });

  const gatherBuf = new Uint8Array(70000);
  const gatherOut = (u8: Uint8Array, off: number, len: number, meta: RxMeta): Uint8Array => gatherBuf.slice(0, gatherRx(u8, off, len, meta, gatherBuf, 0));

  test('fragment lists (Contract B): an RSC packet comes up unreassembled, its fragments in the receive buffer; concatenated they equal the reassembled packet, with the same order, counts and first-fragment meta', async () => {
    const { host, dev } = await ready();
    const u8 = host.bus.memory.u8;
    type Got = { bytes: number[]; flags: number; fragments: number; csum: number; vlan: number; hash: number; list: [number, number][] | null; inPlace: boolean };
    const seen: Got[] = [];
    dev.onReceive = (b, off, len, m) => {
      const list = (m.flags & RX_F_FRAGS) !== 0 ? Array.from({ length: m.fragments }, (_, i): [number, number] => [m.fragOff[i]!, m.fragLen[i]!]) : null;
      if (list) expect(off).toBe(list[0]![0]); // off = fragOff[0]
      seen.push({ bytes: [...gatherOut(b, off, len, m)], flags: m.flags, fragments: m.fragments, csum: m.csum, vlan: m.vlan, hash: m.hash, list, inPlace: b === u8 });
    };
    const parts = [frame(1, 1000), frame(2, 1400), frame(3, 8), frame(4, 333)];
    const first: [number, number][] = [[TCPIP_CHKSUM_PKTINFO, 0x12], [IEEE_8021Q_INFO, 0x2005], [NBL_HASH_VALUE, 0xabcd1234]];
    const later: [number, number][] = [[NBL_HASH_VALUE, 0x99], [IEEE_8021Q_INFO, 0x7]]; // only the first fragment's PPIs apply
    const plain = [frame(8, 60), frame(9, 70)];
    const send = (): { tid: number; ranges: { off: number; len: number }[] } => {
      const msgs = rscMessages(parts, rscFlags(4), [first, later, later, later]);
      const p0 = new Uint8Array(44 + 60);
      writeRndisPacketHeader(new DataView(p0.buffer), 0, 0, 60);
      p0.set(plain[0]!, 44);
      const p1 = new Uint8Array(44 + 70);
      writeRndisPacketHeader(new DataView(p1.buffer), 0, 0, 70);
      p1.set(plain[1]!, 44);
      const ranges = placeAll(host, [p0, ...msgs, p1]);
      return { tid: host.sendXfer(ranges), ranges };
    };
    const whole = parts.flatMap((p) => [...p]);
    const expected = [[...plain[0]!], whole, [...plain[1]!]];
    for (const list of [false, true, false, true]) {
      dev.setRxFragments(list);
      seen.length = 0;
      const before = dev.stats()['rx_queue_0_bytes']!;
      const { tid, ranges } = send();
      await host.settle();
      expect(host.completions.get(tid)).toBe(1);
      expect(seen.map((g) => g.bytes)).toEqual(expected); // byte for byte, in order, both modes
      expect(dev.stats()['rx_queue_0_bytes']! - before).toBe(60 + whole.length + 70);
      const r = seen[1]!;
      expect(r.fragments).toBe(4);
      expect([r.csum, r.vlan, r.hash]).toEqual([0x12, 0x2005, 0xabcd1234]);
      expect(r.flags).toBe(RX_F_RSC | RX_F_CSUM | RX_F_VLAN | RX_F_HASH | (list ? RX_F_FRAGS : 0));
      expect(seen[0]!.flags & RX_F_FRAGS).toBe(0); // plain frames stay contiguous
      expect(seen[2]!.flags & RX_F_FRAGS).toBe(0);
      if (list) {
        // each fragment is read where the host wrote it: the range's data past header and PPIs
        const gpa = dev.att.nv.recv.gpa;
        expect(r.list).toEqual(ranges.slice(1, 5).map((x, i) => [gpa + x.off + 44 + 16 * (i === 0 ? 4 : 3), parts[i]!.length]));
        expect(r.inPlace).toBe(true);
      }
    }
    expect(dev.stats()['rx_queue_0_packets']).toBe(4 * 3);
    expect(dev.stats()['rx_bad_rsc'] ?? 0).toBe(0);
  });

  test('43 fragments of 1600 B (68 800 B, inside the reassembly bound) are taken in both modes, byte for byte', async () => {
    const { host, dev } = await ready();
    const parts = Array.from({ length: 43 }, (_, i) => frame(i + 100, 1600));
    const seen: { list: boolean; bytes: Uint8Array; fragments: number }[] = [];
    dev.onReceive = (u8, off, len, m) => seen.push({ list: (m.flags & RX_F_FRAGS) !== 0, bytes: gatherOut(u8, off, len, m), fragments: m.fragments });
    for (const list of [false, true]) {
      dev.setRxFragments(list);
      const tid = host.sendXfer(placeAll(host, rscMessages(parts, rscFlags(43))));
      await host.settle();
      expect(host.completions.get(tid)).toBe(1);
    }
    expect(seen.map((g) => [g.list, g.fragments, g.bytes.length])).toEqual([[false, 43, 68800], [true, 43, 68800]]);
    expect(seen[1]!.bytes).toEqual(seen[0]!.bytes);
    expect(seen[0]!.bytes.subarray(1600 * 42)).toEqual(parts[42]);
  });

  test('an RSC packet after a segment GRO holds (same flow, same burst) arrives after it, contiguous or as a list', async () => {
    const { host, dev } = await ready();
    const s = new FrameSpec();
    s.dstMac.set([0, 0x15, 0x5d, 0, 0, 1]);
    s.srcMac.set([0, 0x15, 0x5d, 0, 0, 2]);
    s.src4 = 0x0a000001;
    s.dst4 = 0x0a000002;
    s.srcPort = 4000;
    s.dstPort = 5001;
    const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 3) & 0xff);
    const buf = new Uint8Array(4000);
    s.seq = 1000;
    const seg = buf.slice(0, buildTcp4Frame(buf, 0, s, payload, 0, 1000)); // held by GRO (more may follow)
    s.seq = 2000;
    const big = buf.slice(0, buildTcp4Frame(buf, 0, s, payload, 1000, 2000)); // the host's RSC packet of the next bytes
    const seqs: number[] = [];
    dev.onReceive = (u8, off, len, m) => {
      const b = gatherOut(u8, off, len, m);
      seqs.push(((b[38]! << 24) | (b[39]! << 16) | (b[40]! << 8) | b[41]!) >>> 0);
    };
    for (const list of [false, true]) {
      dev.setRxFragments(list);
      seqs.length = 0;
      const p0 = new Uint8Array(44 + seg.length);
      writeRndisPacketHeader(new DataView(p0.buffer), 0, 0, seg.length);
      p0.set(seg, 44);
      const rsc = rscMessages([big.subarray(0, 800), big.subarray(800, 1600), big.subarray(1600)], rscFlags(3));
      host.sendXfer(placeAll(host, [p0, ...rsc]));
      await host.settle();
      expect(seqs).toEqual([1000, 2000]);
    }
  });

  // One range of a random transfer-page packet: a plain frame, an RSC fragment with any flags, a run, or a range outside the
  // buffer; at most 3 x 4 x 5 = 60 messages, inside the 64 receive sections the scripted host cycles through.
  const rangeArb = fc.oneof(
    fc.record({ k: fc.constant('plain' as const), len: fc.integer({ min: 14, max: 1600 }) }),
    fc.record({ k: fc.constant('frag' as const), len: fc.integer({ min: 1, max: 1600 }), flags: fc.constantFrom(1, 1 | 2, 1 | 4, 1 | 2 | 4, 0) }),
    fc.record({ k: fc.constant('run' as const), n: fc.integer({ min: 1, max: 5 }), len: fc.integer({ min: 1, max: 1600 }) }),
    fc.record({ k: fc.constant('bad' as const) }),
  );

  propTest.prop([fc.array(fc.array(rangeArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 })], { numRuns: 80 })(
    'random transfer-page packets (RSC runs, stray fragments, plain frames, bad ranges): lists on and off deliver the same bytes, metas, counters and completions',
    async (packets) => {
      const { host, dev } = await ready();
      let seed = 0;
      const msgs = (pkt: (typeof packets)[number]): ({ off: number; len: number })[] => {
        const out: { off: number; len: number }[] = [];
        for (const r of pkt) {
          if (r.k === 'bad') out.push({ off: 0x7ffffff0, len: 64 });
          else if (r.k === 'plain') {
            const b = new Uint8Array(44 + r.len);
            writeRndisPacketHeader(new DataView(b.buffer), 0, 0, r.len);
            b.set(frame(seed++, r.len), 44);
            out.push(...placeAll(host, [b]));
          } else if (r.k === 'frag') out.push(...placeAll(host, rscMessages([frame(seed++, r.len)], [r.flags])));
          else out.push(...placeAll(host, rscMessages(Array.from({ length: r.n }, () => frame(seed++, r.len)), rscFlags(r.n))));
        }
        return out;
      };
      const runs: { got: string[]; stats: Record<string, number>; comps: (number | undefined)[] }[] = [];
      for (const list of [false, true]) {
        dev.setRxFragments(list);
        seed = 0;
        const got: string[] = [];
        dev.onReceive = (u8, off, len, m) => {
          expect((m.flags & RX_F_FRAGS) !== 0).toBe(list && (m.flags & RX_F_RSC) !== 0);
          got.push(`${m.flags & ~RX_F_FRAGS}/${m.fragments}/${[...gatherOut(u8, off, len, m)].join(',')}`);
        };
        const before = dev.stats();
        const tids = packets.map((p) => host.sendXfer(msgs(p)));
        await host.settle();
        const after = dev.stats();
        const stats: Record<string, number> = {};
        for (const k of Object.keys(after)) if (after[k] !== before[k]) stats[k] = after[k]! - (before[k] ?? 0);
        runs.push({ got, stats, comps: tids.map((t) => host.completions.get(t)) });
      }
      expect(runs[1]).toEqual(runs[0]);
    },
  );

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
