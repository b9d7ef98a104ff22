import { describe, expect, test } from 'vitest';
import { ManualClock } from '../core/index.js';
import { emitChannelMessage, gpadlMessages, HV_NIC_GUID, VM_PKT_COMP, VM_PKT_DATA_INBAND, VM_PKT_DATA_USING_GPA_DIRECT, VM_PKT_DATA_USING_XFER_PAGES } from '../wire/index.js';
import { singleThreadBus } from '../../test/harness/ring-bus.js';
import type { Channel } from './channel.js';
import { EventLoop } from './event-loop.js';
import { checkRange, MAX_GPADLS_PER_VM } from './gpadl.js';
import { GuestMemory, PageAllocator, PAGE_SIZE } from './guest-memory.js';
import { VmbusGuest } from './guest-bus.js';
import { MAX_PENDING_GPADLS } from './host-bus.js';
import { inMemoryLinkPair } from './link.js';
import { Doorbell, MAX_CHILD_RELID, newHostDoorbellSab, SIGNAL_SAB_BYTES } from './signal.js';
import type { VmbusPacket } from './vmbus-packet.js';

const INSTANCE = '12345678-9abc-def0-1234-56789abcdef0';

function packets(log: { type: number; lo: number; payload: number[] }[]) {
  return (pkt: VmbusPacket): void => {
    log.push({ type: pkt.type, lo: pkt.transIdLo, payload: [...pkt.buf.subarray(pkt.payloadOffset, pkt.len)] });
  };
}

async function openedBus(maxSubChannels = 2) {
  const bus = singleThreadBus();
  const hostChannels: Channel[] = [];
  const closed: number[] = [];
  const device = bus.host.offerDevice({ instanceGuid: INSTANCE, maxSubChannels, onOpen: (ch) => hostChannels.push(ch), onClose: (ch) => closed.push(ch.relid) });
  const offers = await bus.guest.requestOffers();
  const primary = await bus.guest.open(offers[0]!, { ringPages: 4, maxPktSize: 4624 });
  return { ...bus, device, offers, primary, hostChannels, closed };
}

describe('VmbusHost / VmbusGuest in single-thread mode', () => {
  test('the guest sees the NIC offer, opens it with one ring GPADL, and both ends exchange packets', async () => {
    const b = await openedBus();
    expect(b.offers).toHaveLength(1);
    expect(b.offers[0]).toMatchObject({ ifType: HV_NIC_GUID, ifInstance: INSTANCE, subChannelIndex: 0, childRelid: 1 });
    const host = b.hostChannels[0]!;
    const hostLog: { type: number; lo: number; payload: number[] }[] = [];
    host.onPacket = packets(hostLog);
    const nvsp = Uint8Array.from({ length: 40 }, (_, i) => i);
    const id = b.primary.sendRequest(77, nvsp, 0, 40);
    expect(id).toBe(1);
    b.primary.flush();
    b.loop.drain();
    expect(hostLog).toEqual([{ type: VM_PKT_DATA_INBAND, lo: 1, payload: [...nvsp] }]);
    // the host completes it with a payload; the guest looks the id up
    const guestCookies: number[] = [];
    b.primary.onPacket = (pkt, ch) => {
      if (pkt.type === VM_PKT_COMP) guestCookies.push(ch.completeRequest(pkt));
    };
    host.sendCompletion(1, 0, nvsp, 0, 8);
    host.sendCompletion(1, 0, null, 0, 0); // a duplicate: dropped and counted, the channel goes on
    host.flush();
    b.loop.drain();
    expect(guestCookies).toEqual([77]);
    expect(b.guest.counters.get('bad_transaction')).toBe(1);
    expect(b.primary.state).toBe('open');
  });

  test('sub-channels are offered with their index and open like the primary', async () => {
    const b = await openedBus(3);
    const seen: number[] = [];
    b.guest.onOffer = (o) => seen.push(o.subChannelIndex);
    const relids = b.device.offerSubChannels(2);
    await b.settle();
    expect(seen).toEqual([1, 2]);
    for (const relid of relids) await b.guest.open(b.guest.offers.get(relid)!, { ringPages: 2 });
    expect(b.hostChannels.map((c) => c.subChannelIndex)).toEqual([0, 1, 2]);
    expect(() => b.device.offerSubChannels(2)).toThrow(expect.objectContaining({ code: 'LIMIT' }));
  });

  test('transfer-page and GPA-direct packets built in place arrive with their headers', async () => {
    const b = await openedBus();
    const host = b.hostChannels[0]!;
    const log: { type: number; lo: number; payload: number[] }[] = [];
    b.primary.onPacket = packets(log);
    host.onPacket = packets(log);
    // host → guest type 7: header 24 + 2 ranges, then a 40-byte NVSP message
    const tx = host.tx;
    expect(tx.beginWrite(VM_PKT_DATA_USING_XFER_PAGES, 0, 5, 0, 24 + 16, 40)).toBe(true);
    tx.setU16(16, 0xcafe);
    tx.setU32(20, 2);
    tx.setU32(24, 100);
    tx.setU32(28, 0);
    tx.setU32(32, 60);
    tx.setU32(36, 1728);
    tx.setU32(40, 107);
    tx.commitWrite();
    host.flush();
    // guest → host type 9: one range of 2 PFNs
    const g = b.primary.tx;
    expect(g.beginWrite(VM_PKT_DATA_USING_GPA_DIRECT, 1, 9, 0, 24 + 24, 40)).toBe(true);
    g.setU32(20, 1);
    g.setU32(24, 5000);
    g.setU32(28, 96);
    g.setU32(32, 300);
    g.setU32(40, 301);
    g.commitWrite();
    b.primary.flush();
    b.loop.drain();
    expect(log.map((p) => [p.type, p.lo, p.payload.length])).toEqual([
      [VM_PKT_DATA_USING_GPA_DIRECT, 9, 40],
      [VM_PKT_DATA_USING_XFER_PAGES, 5, 40],
    ]);
  });

  test('a GPADL over scattered pages (header + body messages) is mapped by the host byte for byte', async () => {
    const b = await openedBus();
    const pfns = b.allocator.allocPages(60, true);
    for (const [i, pfn] of pfns.entries()) b.memory.u8.fill(i + 1, pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
    const handle = await b.guest.establishGpadl(pfns, 60 * PAGE_SIZE - 100);
    const m = b.host.mapGpadl(handle);
    expect(m.len).toBe(60 * PAGE_SIZE - 100);
    const out = new Uint8Array(8);
    m.read(PAGE_SIZE * 30 - 4, out, 0, 8);
    expect([...out]).toEqual([30, 30, 30, 30, 31, 31, 31, 31]);
    expect(() => checkRange(m, 60 * PAGE_SIZE - 104, 8)).toThrow(expect.objectContaining({ code: 'BAD_GPADL' }));
    // teardown while mapped waits for the unmap (Hyper-V defers GPADL_TORNDOWN)
    let torn = false;
    const p = b.guest.teardownGpadl(handle).then(() => (torn = true));
    await b.settle();
    expect(torn).toBe(false);
    m.unmap();
    await p;
    expect(torn).toBe(true);
    expect(b.host.gpadls.has(handle)).toBe(false);
  });

  test('the ring GPADL of an open channel cannot be torn down (BUSY); close frees its pages', async () => {
    const b = await openedBus();
    const free = b.allocator.freePages;
    await expect(b.guest.teardownGpadl(0xe1e10)).rejects.toMatchObject({ code: 'BUSY' });
    await b.guest.close(b.primary);
    expect(b.allocator.freePages).toBe(free + 8);
    expect(b.closed).toEqual([1]);
    expect(b.host.gpadls.size).toBe(0);
    expect(() => b.primary.sendInband(0, 0, new Uint8Array(8), 0, 8)).toThrow(expect.objectContaining({ code: 'CHANNEL_CLOSED' }));
  });

  test('rescind while packets are in flight: writes fail CHANNEL_CLOSED, ids are reclaimed, nothing blocks, re-offer works', async () => {
    const b = await openedBus();
    const host = b.hostChannels[0]!;
    const reclaimed: number[] = [];
    b.primary.onReclaim = (c) => reclaimed.push(c);
    const payload = new Uint8Array(40);
    for (let i = 0; i < 10; i++) expect(b.primary.sendRequest(100 + i, payload, 0, 40)).toBeGreaterThan(0);
    b.primary.flush();
    host.sendInband(0xfffffffd, 0xffffffff, payload, 0, 40);
    host.flush();
    const rescinded: number[] = [];
    b.guest.onRescind = (r) => rescinded.push(r);
    b.device.rescind();
    expect(() => host.sendInband(0, 0, payload, 0, 8)).toThrow(expect.objectContaining({ code: 'CHANNEL_CLOSED' }));
    await b.settle();
    expect(rescinded).toEqual([1]);
    expect(b.primary.state).toBe('closed');
    expect(reclaimed).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(() => b.primary.sendRequest(1, payload, 0, 40)).toThrow(expect.objectContaining({ code: 'CHANNEL_CLOSED' }));
    expect(b.loop.drain()).toBe(0);
    await b.settle();
    expect(b.host.gpadls.size).toBe(0); // the guest tore the ring GPADL down after the host unmapped it
    // re-offer: a new relid, opened again
    const again = b.host.offerDevice({ instanceGuid: INSTANCE, onOpen: (ch) => b.hostChannels.push(ch) });
    await b.settle();
    const offer = b.guest.offers.get(again.relids[0]!)!;
    const ch = await b.guest.open(offer, { ringPages: 2 });
    expect(ch.relid).toBe(2);
    expect(ch.sendInband(0, 0, payload, 0, 40)).toBe(true);
  });

  test('a corrupt descriptor from the host fails the guest channel, and the host end stops too', async () => {
    const b = await openedBus();
    const host = b.hostChannels[0]!;
    host.sendInband(1, 0, new Uint8Array(40), 0, 40);
    host.flush();
    // scribble len8 of the packet in the guest's receive ring (the second ring of the block)
    const recvData = b.memory.gpa(1) + 4 * PAGE_SIZE + PAGE_SIZE;
    new DataView(b.memory.sab).setUint16(recvData + 4, 0x7fff, true);
    const stops: string[] = [];
    b.primary.onStop = (e) => stops.push(e.code);
    b.loop.drain();
    expect(b.primary.state).toBe('failed');
    expect(stops).toEqual(['RING_CORRUPT']);
    expect(b.guest.counters.get('ring_corrupt')).toBe(1);
    expect(host.state).toBe('failed'); // saw the shared state word on its next poll
    expect(b.closed).toEqual([1]);
    const free = b.allocator.freePages;
    await b.guest.close(b.primary); // no CLOSECHANNEL for a failed channel; rings released
    expect(b.allocator.freePages).toBe(free + 8);
    expect(b.host.gpadls.size).toBe(0);
  });

  test('channel messages that do not decode or answer nothing are counted, not fatal', async () => {
    const b = await openedBus();
    // a GPADL_BODY for a handle never announced, and a CLOSECHANNEL for an unknown relid
    const link = b.hostLink;
    link.onMessage(Uint8Array.of(9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x55, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
    link.onMessage(Uint8Array.of(7, 0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0));
    link.onMessage(Uint8Array.of(1, 2, 3));
    expect(b.host.counters.get('bad_gpadl')).toBe(1);
    expect(b.host.counters.get('bad_message')).toBe(2);
    // a GPADL naming a page outside guest memory is refused with a status, and the guest's promise rejects
    await expect(b.guest.establishGpadl([b.memory.pageCount + 5])).rejects.toMatchObject({ code: 'BAD_GPADL' });
  });

  test('a GPADL torn down before its last body is dropped: counted, answered, and its handle is free again', async () => {
    const b = await openedBus();
    const unasked = b.guest.counters.get('bad_message');
    const [header] = gpadlMessages(0, 0x99, Array.from({ length: 40 }, (_, i) => 30 + i)); // header only: 14 PFNs still owed
    b.hostLink.onMessage(emitChannelMessage(header!));
    b.hostLink.onMessage(emitChannelMessage({ msgtype: 11, childRelid: 0, gpadl: 0x99 }));
    await b.settle();
    expect(b.host.counters.get('bad_gpadl')).toBe(1);
    expect(b.guest.counters.get('bad_message')).toBe(unasked + 1); // the GPADL_TORNDOWN answer, which this guest did not ask for
    // the same handle announced again whole is accepted (the partial list is gone, not appended to)
    for (const m of gpadlMessages(0, 0x99, [30, 31])) b.hostLink.onMessage(emitChannelMessage(m));
    await b.settle();
    expect(b.host.gpadls.has(0x99)).toBe(true);
    expect(b.host.counters.get('bad_gpadl')).toBe(1);
  });

  test('a guest cannot make the host hold unbounded half-described GPADLs', async () => {
    const b = await openedBus();
    const pfns = Array.from({ length: 40 }, (_, i) => 30 + i);
    for (let h = 0; h <= MAX_PENDING_GPADLS; h++) b.hostLink.onMessage(emitChannelMessage(gpadlMessages(0, 0x1000 + h, pfns)[0]!)); // headers only
    await b.settle();
    expect(b.host.counters.get('bad_gpadl')).toBe(1); // the one past the limit, refused with a status
    // finishing one frees a slot
    for (const m of gpadlMessages(0, 0x1000, pfns).slice(1)) b.hostLink.onMessage(emitChannelMessage(m));
    for (const m of gpadlMessages(0, 0x2000, [30, 31])) b.hostLink.onMessage(emitChannelMessage(m));
    await b.settle();
    expect(b.host.gpadls.has(0x1000) && b.host.gpadls.has(0x2000)).toBe(true);
    expect(b.host.counters.get('bad_gpadl')).toBe(1);
  });

  test('a guest creating GPADLs forever is refused at the per-VM limit: a status, a counter, the table bounded', async () => {
    const b = await openedBus();
    const held = b.host.gpadls.size; // the primary channel's ring GPADL
    for (let h = held; h < MAX_GPADLS_PER_VM; h++) for (const m of gpadlMessages(0, 0x10000 + h, [30 + (h % 64)])) b.hostLink.onMessage(emitChannelMessage(m));
    await b.settle();
    expect(b.host.gpadls.size).toBe(MAX_GPADLS_PER_VM);
    expect(b.host.counters.get('gpadl_limit')).toBe(0);
    // One more: GPADL_CREATED with a failure status, so the guest's promise rejects; nothing is held.
    await expect(b.guest.establishGpadl([100])).rejects.toMatchObject({ code: 'BAD_GPADL' });
    expect([b.host.gpadls.size, b.host.counters.get('gpadl_limit'), b.host.counters.get('bad_gpadl')]).toEqual([MAX_GPADLS_PER_VM, 1, 0]);
    // A teardown frees a slot.
    b.hostLink.onMessage(emitChannelMessage({ msgtype: 11, childRelid: 0, gpadl: 0x10000 + held }));
    await b.settle();
    const handle = await b.guest.establishGpadl([100]);
    expect(b.host.gpadls.has(handle)).toBe(true);
  });

  test('a GPADL that would count a page past 65535 entries is refused with a status and counted, not wrapped', async () => {
    const b = await openedBus();
    const repeat = (n: number): number[] => new Array<number>(n).fill(40);
    for (let i = 0; i < 8; i++) await b.guest.establishGpadl(repeat(8190)); // page 40 in 65520 entries
    await b.guest.establishGpadl(repeat(15)); // 65535
    await expect(b.guest.establishGpadl([41, 40])).rejects.toMatchObject({ code: 'BAD_GPADL' });
    expect(b.host.counters.get('gpadl_limit')).toBe(1);
    expect([b.host.gpadls.pagesDescribed(40, 1), b.host.gpadls.pagesDescribed(41, 1)]).toEqual([true, false]);
  });

  test('the guest drops an offer whose child_relid has no bit in the interrupt page, counted', async () => {
    const b = await openedBus();
    const seen: number[] = [];
    b.guest.onOffer = (o) => seen.push(o.childRelid);
    const before = b.guest.counters.get('bad_message');
    const offer = { ...b.offers[0]!, subChannelIndex: 1 };
    for (const childRelid of [0, MAX_CHILD_RELID + 1, 0xffffffff, MAX_CHILD_RELID]) b.guestLink.onMessage(emitChannelMessage({ ...offer, childRelid }));
    expect(seen).toEqual([MAX_CHILD_RELID]);
    expect(b.guest.offers.has(0) || b.guest.offers.has(MAX_CHILD_RELID + 1)).toBe(false);
    expect(b.guest.counters.get('bad_message')).toBe(before + 3);
  });

  test('the host refuses to open on an unknown or non-contiguous ring GPADL, with a status and counters', async () => {
    const b = await openedBus();
    const open = (gpadl: number): Uint8Array =>
      emitChannelMessage({ msgtype: 5, childRelid: 1, openId: 1, ringBufferGpadlHandle: gpadl, targetVp: 0, downstreamRingBufferPageOffset: 1, userData: new Uint8Array(120) });
    await b.guest.close(b.primary);
    b.hostLink.onMessage(open(0x4242)); // no such GPADL
    for (const m of gpadlMessages(1, 0x77, [40, 60])) b.hostLink.onMessage(emitChannelMessage(m));
    b.hostLink.onMessage(open(0x77)); // pages 40 and 60: not one contiguous block
    await b.settle();
    expect(b.host.counters.get('bad_gpadl')).toBe(2);
    expect(b.hostChannels).toHaveLength(1);
    expect(b.guest.counters.get('bad_message')).toBeGreaterThanOrEqual(2); // results nobody asked for
  });

  test('a host that never answers cannot leave the guest waiting: replies time out', async () => {
    const clock = new ManualClock();
    const memory = GuestMemory.create(64);
    const [, guestLink] = inMemoryLinkPair();
    const hostDoorbell = Doorbell.host(newHostDoorbellSab());
    const guest = new VmbusGuest({
      memory,
      allocator: new PageAllocator(64),
      signals: new SharedArrayBuffer(SIGNAL_SAB_BYTES),
      hostDoorbell,
      link: guestLink,
      loop: new EventLoop(hostDoorbell),
      clock,
      replyTimeoutMs: 100,
    });
    const offers = guest.requestOffers();
    const gpadl = guest.establishGpadl([3, 4]);
    clock.advance(101);
    await expect(offers).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(gpadl).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
