import { describe, expect, test } from 'vitest';
import * as W from '../../wire/index.js';
import { controlReserve, HypervHost } from '../index.js';
import { buildTcp4Frame, FrameSpec } from '../../packet/index.js';
import { ScriptedGuest, TestLab } from '../../../test/harness/scripted-guest.js';

const MAC_A = '00:15:5d:00:00:0a';
const MAC_B = '00:15:5d:00:00:0b';
const A = [0x00, 0x15, 0x5d, 0, 0, 0x0a];
const B = [0x00, 0x15, 0x5d, 0, 0, 0x0b];

function frame(dst: number[], src: number[], len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88;
  f[13] = 0xb5; // local experimental ethertype
  for (let i = 14; i < len; i++) f[i] = (i * 7 + seed) & 0xff;
  return f;
}

/** RNDIS PACKET bytes (44-byte header, PPIs, frame, optional padding), built with src/wire writers. */
function rndisPacket(f: Uint8Array, pad = 0, ppis: { type: number; value: number }[] = []): Uint8Array {
  const b = new Uint8Array(44 + 16 * ppis.length + f.length + pad);
  const dv = new DataView(b.buffer);
  let p = W.writeRndisPacketHeader(dv, 0, ppis.length, f.length, pad);
  for (const x of ppis) p = W.writePpi(dv, p, x.type, 0, x.value);
  b.set(f, p);
  return b;
}

async function filter(g: ScriptedGuest, value: number): Promise<void> {
  const info = new Uint8Array(4);
  new DataView(info.buffer).setUint32(0, value, true);
  const r = await g.rndis({ ndisMsgType: W.RNDIS_MSG_SET, msgLen: 32, reqId: 2, oid: W.RNDIS_OID_GEN_CURRENT_PACKET_FILTER, infoBuflen: 4, infoBufOffset: 20, devVcHandle: 0, infoBuf: info });
  expect(r).toMatchObject({ ndisMsgType: W.RNDIS_MSG_SET_C, status: 0 });
}

async function pair(o: { recvPages?: number; scatter?: boolean } = {}): Promise<{ lab: TestLab; a: ScriptedGuest; b: ScriptedGuest }> {
  const lab = new TestLab(new HypervHost({ profile: 'ws2019' }));
  const a = await ScriptedGuest.create(lab, 'vmA', { mac: MAC_A });
  const b = await ScriptedGuest.create(lab, 'vmB', { mac: MAC_B });
  for (const g of [a, b]) {
    await g.bringUp({ ...o });
    await g.rndis({ ndisMsgType: W.RNDIS_MSG_INIT, msgLen: 24, reqId: 1, majorVer: 1, minorVer: 0, maxXferSize: 0x4000 });
    await filter(g, W.NDIS_PACKET_TYPE_DIRECTED | W.NDIS_PACKET_TYPE_BROADCAST | W.NDIS_PACKET_TYPE_ALL_MULTICAST);
  }
  return { lab, a, b };
}

/** Packs messages into send section `idx` (padding all but the last to 8, §4.4) and sends NVSP 107. */
function sendSection(g: ScriptedGuest, idx: number, frames: Uint8Array[]): number {
  let off = 0;
  frames.forEach((f, i) => {
    const last = i === frames.length - 1;
    const raw = 44 + f.length;
    const pad = last ? 0 : ((raw + 7) & ~7) - raw;
    const m = rndisPacket(f, pad);
    g.write(g.sendPfns, idx * 6144 + off, m);
    off += m.length;
  });
  return g.send({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: idx, sendBufSectionSize: off });
}

function status(g: ScriptedGuest, cookie: number): number {
  const c = g.completions.get(cookie);
  if (!c) throw new Error('no completion');
  return new DataView(c.buffer).getUint32(4, true);
}

describe('data path VM to VM through the switch', () => {
  test('several RNDIS packets per send section arrive byte-identical, in order, packed in one transfer-page packet', async () => {
    const { lab, a, b } = await pair({ scatter: true });
    const sent = [60, 61, 100, 333, 1514].map((n, i) => frame(B, A, n, i));
    const cookie = sendSection(a, 3, sent);
    await lab.settle();
    expect(status(a, cookie)).toBe(W.NVSP_STAT_SUCCESS);
    expect(b.rx).toHaveLength(1); // one burst → one type-7 packet, five ranges
    expect(b.rx[0]!.ranges).toHaveLength(5);
    expect(b.frames().map((f) => [...f.data])).toEqual(sent.map((f) => [...f]));
    const st = b.nic.stats();
    expect(st.recvBuffer!.inUse).toBeGreaterThan(0);
    expect(st.recvBuffer!.inUse).toBeLessThan(5); // small frames share sections
    b.completeRx();
    await lab.settle();
    expect(b.nic.stats().recvBuffer!.inUse).toBe(0);
    expect(a.nic.stats().queues[0]).toMatchObject({ tx_packets: 5, tx_vmbus_packets: 3, tx_max_rndis_per_packet: 5 }) // + INIT and SET;
    expect(b.nic.stats().queues[0]).toMatchObject({ rx_packets: 5, rx_completions: 3 }) // + INIT_C and SET_C;
  });

  test('GPA-direct partial copy: headers at the end of the section, the frame in a multi-PFN range (§4.4)', async () => {
    const { lab, a, b } = await pair();
    const first = frame(B, A, 200, 1);
    const big = frame(B, A, 1514, 2);
    const m1 = rndisPacket(first, 4); // 244 → 248
    const hdr = rndisPacket(big).subarray(0, 44); // header only in the section
    a.write(a.sendPfns, 5 * 6144, m1);
    a.write(a.sendPfns, 5 * 6144 + m1.length, hdr);
    // frame bytes span two pages of a described buffer, starting 4000 bytes into the first page
    const pages = a.vm.allocator.allocPages(2);
    await a.vm.guest.establishGpadl(pages);
    a.write(pages, 4000, big);
    const cookie = a.sendGpaDirect(0, 5, m1.length + 44, [{ pfns: pages, offset: 4000, count: big.length }]);
    await lab.settle();
    expect(status(a, cookie)).toBe(W.NVSP_STAT_SUCCESS);
    expect(b.frames().map((f) => [...f.data])).toEqual([[...first], [...big]]);
  });

  test('a GPA range whose byte_offset is not inside its first page (§2.10: < 4096) fails with tx_bad_range, no throw', async () => {
    const { lab, a, b } = await pair();
    const pages = a.vm.allocator.allocPages(6);
    await a.vm.guest.establishGpadl(pages);
    a.write(a.sendPfns, 4 * 6144, rndisPacket(frame(B, A, 100, 3)).subarray(0, 44));
    // 8192 + 200 bytes name three PFNs; listed out of order the first page's copy length went
    // negative (4096 - 8192), the gather offset with it, and the next copy threw a RangeError
    const bad = a.sendGpaDirect(0, 4, 44, [{ pfns: [pages[4]!, pages[2]!, pages[0]!], offset: 8192, count: 200 }]);
    const good = frame(B, A, 100, 4);
    const ok = sendSection(a, 5, [good]);
    await lab.settle();
    expect([status(a, bad), status(a, ok)]).toEqual([W.NVSP_STAT_FAIL, W.NVSP_STAT_SUCCESS]);
    expect(a.nic.stats().queues[0]).toMatchObject({ tx_bad_range: 1, tx_packets: 1 });
    expect(b.frames().map((f) => [...f.data])).toEqual([[...good]]);
    expect(a.ch.state).toBe('open');
  });
  test('receive-buffer exhaustion drops and counts, and traffic flows again after the completions', async () => {
    const { lab, a, b } = await pair({ recvPages: 12 }); // 49152 / 1624 = 30 sections, 30 / 8 = 3 kept for control
    const big = (i: number) => frame(B, A, 1514, i);
    for (let i = 0; i < 30; i++) sendSection(a, i % 10, [big(i)]);
    await lab.settle();
    const q = b.nic.stats().queues[0]!;
    expect(q['rx_packets']).toBe(27);
    expect(q['rx_dropped_no_section']).toBe(3);
    b.completeRx();
    await lab.settle();
    expect(b.nic.stats().recvBuffer!.inUse).toBe(0);
    sendSection(a, 0, [big(99)]);
    await lab.settle();
    expect(b.frames().map((f) => [...f.data])).toEqual([[...big(99)]]);
  });

  test('the control reserve scales with the section count: max(2, min(16, count / 8))', () => {
    expect([10, 16, 24, 30, 64, 128, 200, 18811].map(controlReserve)).toEqual([2, 2, 3, 3, 8, 16, 16, 16]);
  });

  test('a revoke with frames the guest has not completed counts them (rx_unacked_revoked), nothing silent', async () => {
    const { lab, a, b } = await pair();
    sendSection(a, 0, [frame(B, A, 60, 1), frame(B, A, 70, 2), frame(B, A, 80, 3)]);
    await lab.settle();
    expect(b.frames()).toHaveLength(3);
    b.completeRx(b.rx.length - 1); // the control replies, not the data packet
    b.send({ type: W.NVSP_MSG1_TYPE_REVOKE_RECV_BUF, id: 0xcafe }, false);
    await lab.settle();
    expect(b.nic.stats().queues[0]).toMatchObject({ rx_packets: 3, rx_unacked_revoked: 3, rx_dropped_revoked: 0 });
    // With no buffer the port refuses frames (the switch counts them); nothing more is written.
    b.rx.length = 0;
    sendSection(a, 1, [frame(B, A, 60, 4)]);
    await lab.settle();
    expect(b.rx).toHaveLength(0);
    expect(b.nic.stats().queues[0]).toMatchObject({ rx_packets: 3, rx_unacked_revoked: 3 });
  });

  test('a completion with an unknown or duplicate trans_id is counted and frees nothing', async () => {
    const { lab, a, b } = await pair();
    sendSection(a, 0, [frame(B, A, 60, 1)]);
    await lab.settle();
    const r = b.rx[0]!;
    b.completeRx();
    const body = new Uint8Array(8);
    b.ch.sendCompletion(r.lo, r.hi, body, 0, 8); // duplicate
    b.ch.sendCompletion(999, 0, body, 0, 8); // never sent
    b.ch.flush();
    await lab.settle();
    expect(b.nic.stats().queues[0]).toMatchObject({ rx_completions: 3, rx_bad_completion: 2 }) // 2 control replies + the frame;
  });

  test('bad guest fields get a failure completion and a counter while good traffic continues', async () => {
    const { lab, a, b } = await pair();
    const good = frame(B, A, 100, 5);
    const send107 = (idx: number, size: number) => a.send({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: idx, sendBufSectionSize: size });
    const sections = a.nic.stats().sendBuffer!.sections; // 32 pages / 6144 = 21
    const badIndex = send107(sections, 100);
    const badSize = send107(0, 6145);
    // msg_len overflowing the section bytes
    const m = rndisPacket(good);
    new DataView(m.buffer).setUint32(4, 9999, true);
    a.write(a.sendPfns, 1 * 6144, m);
    const badLen = send107(1, m.length);
    // a zero-size PPI (§8 item 33)
    const z = rndisPacket(good, 0, [{ type: W.TCPIP_CHKSUM_PKTINFO, value: 0 }]);
    new DataView(z.buffer).setUint32(44, 0, true);
    a.write(a.sendPfns, 2 * 6144, z);
    const badPpi = send107(2, z.length);
    // a GPA range naming a page outside any GPADL
    const loose = a.vm.allocator.allocPages(1);
    const badRange = a.sendGpaDirect(0, -1, 0, [{ pfns: loose, offset: 0, count: 200 }]);
    const ok = sendSection(a, 4, [good]);
    await lab.settle();
    expect([badIndex, badSize, badLen, badPpi, badRange].map((c) => status(a, c))).toEqual([
      W.NVSP_STAT_FAIL, W.NVSP_STAT_FAIL, W.NVSP_STAT_INVALID_RNDIS_PKT, W.NVSP_STAT_INVALID_RNDIS_PKT, W.NVSP_STAT_FAIL,
    ]);
    expect(status(a, ok)).toBe(W.NVSP_STAT_SUCCESS);
    expect(a.nic.stats().queues[0]).toMatchObject({ tx_bad_section: 2, tx_bad_rndis: 2, tx_bad_range: 1, tx_packets: 1 });
    expect(b.frames().map((f) => [...f.data])).toEqual([[...good]]);
    expect(a.ch.state).toBe('open');
  });

  test('a checksum-offload request is computed by the host (pseudo-header, §6.2) and reported succeeded (§6.3)', async () => {
    const { lab, a, b } = await pair();
    const spec = new FrameSpec();
    spec.dstMac.set(B);
    spec.srcMac.set(A);
    spec.src4 = 0x0a000001;
    spec.dst4 = 0x0a000002;
    spec.srcPort = 1234;
    spec.dstPort = 80;
    const f = new Uint8Array(54 + 66);
    buildTcp4Frame(f, 0, spec, new Uint8Array(66).fill(0x5a), 0, 66);
    const want = f.slice();
    f[50] = 0xde; // TCP checksum field garbage: only the host can make it right
    f[51] = 0xad;
    const m = rndisPacket(f, 0, [{ type: W.TCPIP_CHKSUM_PKTINFO, value: W.packCsumTx(true, false, true, false, false, 34) }]);
    a.write(a.sendPfns, 0, m);
    a.send({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: 0, sendBufSectionSize: m.length });
    await lab.settle();
    const [got] = b.frames();
    expect([...got!.data]).toEqual([...want]);
    expect(got!.slots.present & W.PPI_CSUM).toBeTruthy();
    expect(got!.slots.csum).toBe(W.CSUM_RX.tcpChecksumSucceeded | W.CSUM_RX.ipChecksumSucceeded);
    expect(a.nic.stats().queues[0]).toMatchObject({ tx_csum_filled: 1 });
  });

  test('a checksum PPI on a frame that is not TCP is dropped and counted (tx_csum_bad)', async () => {
    const { lab, a, b } = await pair();
    const f = frame(B, A, 120, 3);
    const m = rndisPacket(f, 0, [{ type: W.TCPIP_CHKSUM_PKTINFO, value: W.packCsumTx(true, false, true, false, false, 34) }]);
    a.write(a.sendPfns, 0, m);
    a.send({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: 0, sendBufSectionSize: m.length });
    await lab.settle();
    expect(b.frames()).toHaveLength(0);
    expect(a.nic.stats().queues[0]).toMatchObject({ tx_csum_bad: 1 });
  });

  test('packet filter 0 receives nothing; the link indications reach an initialized guest', async () => {
    const { lab, a, b } = await pair();
    await filter(b, 0);
    sendSection(a, 0, [frame(B, A, 60, 1), frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], A, 60, 2)]);
    await lab.settle();
    expect(b.rx).toHaveLength(0);
    b.nic.setLink(false);
    b.nic.networkChange();
    b.nic.setLinkSpeed(400_000_000);
    await lab.settle();
    const msgs = b.rx.flatMap((r) => r.ranges).map((r) => W.parseRndis(new DataView(r.bytes.buffer), 0, r.bytes.length));
    expect(msgs).toEqual([
      { ndisMsgType: W.RNDIS_MSG_INDICATE, msgLen: 20, status: W.RNDIS_STATUS_MEDIA_DISCONNECT, statusBuflen: 0, statusBufOffset: 0 },
      { ndisMsgType: W.RNDIS_MSG_INDICATE, msgLen: 20, status: W.RNDIS_STATUS_NETWORK_CHANGE, statusBuflen: 0, statusBufOffset: 0 },
      { ndisMsgType: W.RNDIS_MSG_INDICATE, msgLen: 24, status: W.RNDIS_STATUS_LINK_SPEED_CHANGE, statusBuflen: 4, statusBufOffset: 12, speed: 400_000_000 },
    ]);
  });
});
