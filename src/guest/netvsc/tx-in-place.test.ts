import { describe, expect, test } from 'vitest';
import { buildTcp4Frame, buildUdp4Frame } from '../../packet/index.js';
import { OffloadLab, pump, testSpec } from '../../../test/offload/harness.js';
import { bringUp } from './bring-up.test.js';
import { XMIT_BUSY, XMIT_COPIED, XMIT_IN_PLACE, type NetvscOptions } from './index.js';

/** A frame with a local-experimental EtherType (no IP: prepare() leaves it alone). */
const frame = (seq: number, len: number): Uint8Array => {
  const f = Uint8Array.from({ length: len }, (_, i) => (seq * 31 + i * 7 + 1) & 0xff);
  f[12] = 0x88;
  f[13] = 0xb5;
  return f;
};
const plain = { csum: false, mss: 0 } as const;

/** A device, open, with 8 contiguous guest pages mapped for frames built in place. */
async function ready(go: Partial<NetvscOptions> = {}) {
  const r = await bringUp({}, { mtu: 9000, ...go });
  const { host, dev } = r;
  await host.pump(dev.open());
  const first = dev.allocator.allocContiguous(24);
  const pfns = Array.from({ length: 24 }, (_, i) => first + i);
  await host.pump(dev.mapTxPages(pfns));
  const done: number[] = [];
  dev.onTxDone = (t) => done.push(t);
  const u8 = dev.memory.u8;
  /** Writes `f` into guest memory at base + at and returns its offset there. */
  const put = (at: number, f: Uint8Array): number => {
    u8.set(f, dev.memory.gpa(first) + at);
    return dev.memory.gpa(first) + at;
  };
  return { ...r, done, u8, put };
}

describe('transmit in place (Contract A)', () => {
  test('a frame too big for a section goes in place: the host reads the guest pages (a byte changed after the call shows), no pool slot, onTxDone once', async () => {
    const { host, dev, done, u8, put } = await ready();
    const f = frame(1, 7000);
    const off = put(4096 + 3, f); // unaligned, across page boundaries
    expect(dev.xmitInPlace(off, f.length, plain, false, 77)).toBe(XMIT_IN_PLACE);
    expect(dev.att.pools[0]!.available).toBe(dev.att.pools[0]!.slots); // nothing copied into the pool
    // Not copied: the host has not polled yet and reads what is in guest memory now.
    u8[off + 5000] ^= 0xff;
    f[5000] ^= 0xff;
    expect(done).toEqual([]); // never from inside xmitInPlace, and not before the completion
    await host.settle();
    expect(host.dataGpa).toBe(1);
    expect([...host.frames[0]!.bytes]).toEqual([...f]);
    expect(done).toEqual([77]);
    expect(dev.att.queues[0]!.tx.inPlaceInFlight).toBe(0);
    expect(dev.stats()['tx_queue_0_packets']).toBe(1);
  });

  test('an LSO super-frame: the stack edits (IPv4 length and checksum zeroed, pseudo seed) are made in guest memory and the host sees them', async () => {
    const { host, dev, done, u8, put } = await ready();
    const s = testSpec([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], { srcPort: 40000, dstPort: 5001, seq: 1 });
    const payload = Uint8Array.from({ length: 30000 }, (_, i) => i & 0xff);
    const b = new Uint8Array(30100);
    const n = buildTcp4Frame(b, 0, s, payload, 0, payload.length);
    const off = put(8, b.subarray(0, n));
    expect(dev.xmitInPlace(off, n, { csum: true, mss: 1460 }, false, 5)).toBe(XMIT_IN_PLACE);
    expect(u8[off + 16]).toBe(0); // IPv4 total length zeroed in place (§6.2)
    expect(u8[off + 17]).toBe(0);
    await host.settle();
    expect([...host.frames[0]!.bytes]).toEqual([...u8.subarray(off, off + n)]);
    expect(host.frames[0]!.ppiLen).toBe(16);
    expect(done).toEqual([5]);
  });

  test('a small frame is copied into a send section (XMIT_COPIED): a byte changed after the call does not show, no onTxDone', async () => {
    const { host, dev, done, u8, put } = await ready();
    const f = frame(2, 300);
    const off = put(0, f);
    expect(dev.xmitInPlace(off, f.length, plain, false, 9)).toBe(XMIT_COPIED);
    u8[off + 100] ^= 0xff;
    await host.settle();
    expect(host.dataInband).toBe(1);
    expect([...host.frames[0]!.bytes]).toEqual([...f]);
    expect(done).toEqual([]);
  });

  test('with every section busy a small frame goes in place (tx_send_full); a frame behind an open batch goes as the partial copy in place', async () => {
    const { host, dev, done, put } = await ready({ txSections: 10 });
    host.holdSendCompletions = true;
    for (let i = 0; i < 10; i++) expect(dev.send(frame(i, 100), 0, 100)).toBe(true);
    const small = frame(10, 100);
    expect(dev.xmitInPlace(put(0, small), 100, plain, false, 1)).toBe(XMIT_IN_PLACE);
    expect(dev.stats()['tx_send_full']).toBe(1);
    await host.settle();
    host.releaseSends();
    await host.settle();
    expect(done).toEqual([1]);
    // Partial copy: 3000 B batched (more), then 4000 B whose header still fits the section.
    const a = frame(11, 3000);
    const b = frame(12, 4000);
    expect(dev.xmitInPlace(put(8192, a), a.length, plain, true, 2)).toBe(XMIT_COPIED);
    const offB = put(16384 + 5, b);
    expect(dev.xmitInPlace(offB, b.length, plain, false, 3)).toBe(XMIT_IN_PLACE);
    expect(dev.att.pools[0]!.available).toBe(dev.att.pools[0]!.slots); // the partial copy took no pool slot
    await host.settle();
    expect(host.frames.slice(11).map((f) => [...f.bytes])).toEqual([[...a], [...b]]);
    expect(done).toEqual([1, 3]);
    expect(dev.att.sections.inUse).toBe(0);
  });

  test('out of header cells: XMIT_BUSY takes nothing; after the completions every token came back once and the queue takes frames again', async () => {
    const { host, dev, done, put } = await ready();
    host.holdSendCompletions = true;
    const f = frame(3, 7000);
    const off = put(0, f);
    let taken = 0;
    while (dev.xmitInPlace(off, f.length, plain, false, taken) === XMIT_IN_PLACE) taken++;
    expect(taken).toBe(32); // one page of header cells per queue
    let writable = 0;
    dev.onWritable = () => void writable++;
    expect(dev.xmitInPlace(off, f.length, plain, false, 999)).toBe(XMIT_BUSY);
    await host.settle();
    expect(host.frames).toHaveLength(32); // the refused frame was not sent
    expect(done).toEqual([]);
    // Stopped on cells: the loop's polls leave it stopped (a wake now would only be refused again).
    expect([writable, dev.stats()['wake_queue'] ?? 0]).toEqual([0, 0]);
    host.releaseSends();
    await host.settle();
    expect(writable).toBeGreaterThan(0); // the completions woke it
    expect(done.sort((x, y) => x - y)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(dev.xmitInPlace(off, f.length, plain, false, 999)).toBe(XMIT_IN_PLACE);
    await host.settle();
    expect(done.at(-1)).toBe(999);
    expect(done).toHaveLength(33);
  });

  test('a duplicate completion for an in-place send is refused and counted (comp_bad_id); its token is not reported twice', async () => {
    const { host, dev, done, put } = await ready();
    host.holdSendCompletions = true;
    const f = frame(4, 7000);
    expect(dev.xmitInPlace(put(0, f), f.length, plain, false, 42)).toBe(XMIT_IN_PLACE);
    await host.settle();
    const held = host.heldSends[0]!;
    host.releaseSends();
    await host.settle();
    expect(done).toEqual([42]);
    const bad = dev.stats()['comp_bad_id']!;
    const body = new Uint8Array([131, 0, 0, 0, 1, 0, 0, 0]);
    host.sendCompletion(held.lo, body); // duplicate
    host.sendCompletion(0x7777, body); // unknown
    await host.settle();
    expect(dev.stats()['comp_bad_id']).toBe(bad + 2);
    expect(done).toEqual([42]);
  });

  test('a re-attach (ethtool -G) with in-place frames in flight: each token once, then in-place sends work on the new attachment', async () => {
    const { host, dev, done, put } = await ready();
    host.holdSendCompletions = true;
    const f = frame(5, 7000);
    const off = put(0, f);
    for (let t = 0; t < 3; t++) expect(dev.xmitInPlace(off, f.length, plain, false, 100 + t)).toBe(XMIT_IN_PLACE);
    const p = dev.setRingParams({ tx: 12 });
    await host.settle();
    expect(dev.xmitInPlace(off, f.length, plain, false, 1)).toBe(XMIT_BUSY); // reconfiguring
    host.releaseSends(); // the detach drains: the completions come
    await host.pump(p);
    expect(done.sort()).toEqual([100, 101, 102]);
    expect(dev.xmitInPlace(off, f.length, plain, false, 103)).toBe(XMIT_IN_PLACE);
    await host.settle();
    expect(done).toEqual([100, 101, 102, 103]);
    expect(host.frames.map((x) => [...x.bytes])).toEqual(Array.from({ length: 4 }, () => [...f]));
  });

  test('the NIC is rescinded with in-place frames in flight: the closed channel hands each token back once, remove() adds none', async () => {
    const { host, dev, done, put } = await ready();
    host.holdSendCompletions = true;
    const f = frame(6, 7000);
    const off = put(0, f);
    for (let t = 0; t < 4; t++) expect(dev.xmitInPlace(off, f.length, plain, false, t)).toBe(XMIT_IN_PLACE);
    await host.settle();
    host.device.rescind();
    await host.settle();
    expect(done.sort()).toEqual([0, 1, 2, 3]);
    expect(dev.xmitInPlace(off, f.length, plain, false, 9)).toBe(XMIT_BUSY);
    await host.pump(dev.remove());
    expect(done).toHaveLength(4);
  });

  test('a frame refused by a throw (too big for a page-buffer slot) is left as it was: a popped 802.1Q tag is put back', async () => {
    const { host, dev, put, u8, done } = await ready({ poolSlotPages: 1 });
    const tagged = (seq: number): Uint8Array => {
      const f = frame(seq, 8000);
      f.set([0x81, 0x00, 0x20, 0x0a, 0x88, 0xb5], 12); // priority 1, VLAN 10, then the EtherType
      return f;
    };
    const f = tagged(1);
    const at = put(0, f);
    expect(() => dev.xmitInPlace(at, f.length, plain, false, 7)).toThrow(expect.objectContaining({ code: 'LIMIT' }));
    expect([...u8.subarray(at, at + f.length)]).toEqual([...f]);
    const g = tagged(2);
    const copy = g.slice();
    expect(() => dev.xmit(g, 0, g.length, plain)).toThrow(expect.objectContaining({ code: 'LIMIT' }));
    expect([...g]).toEqual([...copy]);
    expect(dev.stats()['tx_too_big']).toBe(2);
    await host.pump(dev.remove());
    expect(done).toEqual([]);
  });

  test('a range outside guest memory is a typed error, nothing sent', async () => {
    const { dev, u8 } = await ready();
    expect(() => dev.xmitInPlace(u8.length - 10, 100, plain, false, 0)).toThrow(expect.objectContaining({ code: 'LIMIT' }));
    expect(() => dev.xmitInPlace(-1, 100, plain, false, 0)).toThrow(expect.objectContaining({ code: 'LIMIT' }));
  });

  test('through the real host to another VM: unmapped pages are refused by the host (failed completion, token back), mapped ones arrive byte for byte', async () => {
    const lab = new OffloadLab('azure');
    const a = await lab.guest('a', '00:15:5d:00:00:0a', { mtu: 9000 });
    const b = await lab.guest('b', '00:15:5d:00:00:0b', { mtu: 9000 });
    const dev = a.dev;
    const done: number[] = [];
    dev.onTxDone = (t) => done.push(t);
    const payload = Uint8Array.from({ length: 8000 }, (_, i) => (i * 13) & 0xff);
    const f = new Uint8Array(8100);
    const n = buildUdp4Frame(f, 0, testSpec(b.mac, a.mac, { dstPort: 9 }), payload, 0, payload.length);
    const first = dev.allocator.allocContiguous(3);
    const off = dev.memory.gpa(first) + 5;
    dev.memory.u8.set(f.subarray(0, n), off);
    expect(dev.xmitInPlace(off, n, { csum: true, mss: 0 }, false, 1)).toBe(XMIT_IN_PLACE);
    await lab.settle();
    expect(done).toEqual([1]);
    expect(dev.stats()['comp_send_failed']).toBe(1);
    expect(b.rx).toHaveLength(0);
    await pump(lab.lab, dev.mapTxPages([first, first + 1, first + 2]));
    expect(dev.xmitInPlace(off, n, { csum: true, mss: 0 }, false, 2)).toBe(XMIT_IN_PLACE);
    await lab.settle();
    expect(done).toEqual([1, 2]);
    expect(b.rx).toHaveLength(1);
    const sent = dev.memory.u8.slice(off, off + n);
    sent.set(b.rx[0]!.bytes.subarray(40, 42), 40); // the UDP checksum: the host filled it (offload)
    expect([...b.rx[0]!.bytes]).toEqual([...sent]);
    expect([...b.rx[0]!.bytes.subarray(42)]).toEqual([...payload]);
    await lab.close();
  });
});
