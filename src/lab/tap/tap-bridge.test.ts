// The TAP bridge's in-place transmit and fragment-list receive against a scripted driver and port
// (no root): frames read into the arena wait there in order while the queue is full, space is
// reused only after onTxDone, and an RSC fragment list goes to the port as a list.
import { describe, expect, it } from 'vitest';
import { FRAME_GSO_TCPV4, newFrameMeta, type FrameHandler, type FrameMeta } from '../../core/index.js';
import { newRxMeta, RX_F_FRAGS, RX_F_RSC, RX_F_VLAN, XMIT_BUSY, XMIT_COPIED, XMIT_IN_PLACE } from '../../guest/index.js';
import { MAX_TAP_READ_LEN, type TapPort } from '../../io/index.js';
import type { GuestNicDriver, StackTxRequest } from '../nic-driver.js';
import { TapBridge } from './tap-bridge.js';
import { TxArena } from './tx-arena.js';

const HDR = 12;

/** A port that "reads" queued frames into the caller's window as the addon does (vnet header first, 8-aligned). */
class ScriptedPort {
  readonly vnetHdrLen = HDR;
  readonly readsInline = true;
  readEnd = 0;
  reads = 0;
  readonly queue: Uint8Array[] = [];
  readonly written: { frags: number[][] | null; bytes: number[]; meta: FrameMeta; tci: number }[] = [];

  pollInto(buf: Uint8Array, start: number, end: number, handler: FrameHandler, budget: number): number {
    this.reads++;
    let at = start;
    let n = 0;
    const meta = newFrameMeta();
    while (n < budget && this.queue.length > 0 && end - at >= MAX_TAP_READ_LEN) {
      const f = this.queue.shift()!;
      buf.fill(0, at, at + HDR);
      buf.set(f, at + HDR);
      handler(buf, at + HDR, f.length, meta);
      at += (HDR + f.length + 7) & ~7;
      n++;
    }
    this.readEnd = at;
    return n;
  }

  tryWrite(b: Uint8Array, off: number, len: number, meta: FrameMeta, tci = 0): boolean {
    this.written.push({ frags: null, bytes: [...b.subarray(off, off + len)], meta: { ...meta }, tci });
    return true;
  }

  tryWriteFrags(b: Uint8Array, offs: Int32Array, lens: Int32Array, n: number, _total: number, meta: FrameMeta, tci = 0): boolean {
    const frags: number[][] = [];
    for (let i = 0; i < n; i++) frags.push([...b.subarray(offs[i]!, offs[i]! + lens[i]!)]);
    this.written.push({ frags, bytes: frags.flat(), meta: { ...meta }, tci });
    return true;
  }
}

/** The driver side: xmitInPlace answers from `answers` (default IN_PLACE) and records what it was given. */
class ScriptedDriver {
  onFrame: GuestNicDriver['onFrame'] = () => {};
  onTxDone: (token: number) => void = () => {};
  answers: number[] = [];
  readonly sent: { bytes: number[]; req: StackTxRequest; token: number }[] = [];
  readonly fragModes: boolean[] = [];
  flushes = 0;
  constructor(private readonly memory: Uint8Array) {}
  offloads() {
    return { txCsumMask: 0x33, tso4: true, tso6: true, gsoMax: 65536 };
  }
  info() {
    return { mtu: 1500 } as ReturnType<GuestNicDriver['info']>;
  }
  setRxFragments(on: boolean): void {
    this.fragModes.push(on);
  }
  xmitInPlace(off: number, len: number, req: StackTxRequest, _more: boolean, token: number): number {
    const r = this.answers.shift() ?? XMIT_IN_PLACE;
    if (r !== XMIT_BUSY) this.sent.push({ bytes: [...this.memory.subarray(off, off + len)], req: { ...req }, token });
    return r;
  }
  flushTx(): void {
    this.flushes++;
  }
}

function frame(tag: number, len = 60): Uint8Array {
  const f = new Uint8Array(len).fill(tag);
  f.set([0x08, 0x06], 12); // ARP: no checksum work, sent as is
  return f;
}

function setup(arenaBytes = 8 * MAX_TAP_READ_LEN, capture: unknown = null) {
  const memory = new Uint8Array(1 << 20);
  const arena = new TxArena(4096, arenaBytes, MAX_TAP_READ_LEN, 64);
  const driver = new ScriptedDriver(memory);
  const port = new ScriptedPort();
  const bridge = new TapBridge(driver as unknown as GuestNicDriver, port as unknown as TapPort, { offloads: true }, capture as never, { memory, arena });
  return { memory, arena, driver, port, bridge };
}

describe('TapBridge in place', () => {
  it('sends frames from the arena; a frame the queue refuses waits there, in order, and no read happens meanwhile', () => {
    const { driver, port, bridge, arena } = setup();
    port.queue.push(frame(1), frame(2), frame(3));
    driver.answers = [XMIT_IN_PLACE, XMIT_BUSY];
    expect(bridge.poll()).toBe(1);
    expect(arena.pending).toBe(2);
    expect(bridge.counters.tx_held).toBe(2);
    port.queue.push(frame(4));
    driver.answers = [XMIT_BUSY];
    expect(bridge.poll()).toBe(0); // still busy: nothing moved, nothing read
    expect(port.reads).toBe(1);
    driver.answers = [XMIT_COPIED, XMIT_IN_PLACE, XMIT_IN_PLACE];
    expect(bridge.poll()).toBe(3); // 2 and 3 first, then a read finds 4
    expect(driver.sent.map((s) => s.bytes[0])).toEqual([1, 2, 3, 4]);
    expect(driver.sent.map((s) => s.bytes.length)).toEqual([60, 60, 60, 60]);
    expect(bridge.counters).toMatchObject({ tx_frames: 4, tx_in_place: 3, tx_dropped: 0 });
    expect(arena.inFlight).toBe(3);
  });

  it('reuses arena space only after onTxDone, oldest first', () => {
    // Room for two 1000-byte frames and then less than one read's worth after them.
    const { driver, port, bridge, arena } = setup(MAX_TAP_READ_LEN + 1500);
    port.queue.push(frame(9, 1000), frame(8, 1000));
    expect(bridge.poll()).toBe(2);
    port.queue.push(frame(7));
    expect(bridge.poll()).toBe(0); // both frames in flight: less than one read of room
    expect(bridge.counters.tx_arena_full).toBe(1);
    expect(port.reads).toBe(1);
    arena.done(driver.sent[1]!.token); // the newer one completes first: the older still blocks the space
    expect(bridge.poll()).toBe(0);
    arena.done(driver.sent[0]!.token);
    expect(bridge.poll()).toBe(1);
    expect(driver.sent[2]!.bytes[0]).toBe(7);
    expect(driver.sent[0]!.req).toEqual({ csum: false, mss: 0 });
  });

  it('a GSO super-frame asks for LSO with the kernel segment size; one the NIC cannot take is dropped and counted', () => {
    const { driver, port, bridge } = setup();
    const f = frame(5, 300);
    port.queue.push(f);
    const poll = port.pollInto.bind(port);
    port.pollInto = (buf, s, e, h, b) => poll(buf, s, e, (u8, off, len, m) => h(u8, off, len, { ...m, flags: 1, gsoType: FRAME_GSO_TCPV4, gsoSize: 1448, csumStart: 34, csumOffset: 16 }), b);
    expect(bridge.poll()).toBe(1);
    expect(driver.sent[0]!.req).toEqual({ csum: true, mss: 1448 });
    expect(bridge.counters.tx_lso).toBe(1);
    port.queue.push(f);
    port.pollInto = (buf, s, e, h, b) => poll(buf, s, e, (u8, off, len, m) => h(u8, off, len, { ...m, flags: 1, gsoType: 99, gsoSize: 1448, csumStart: 34, csumOffset: 16 }), b);
    expect(bridge.poll()).toBe(0);
    expect(bridge.counters.tx_dropped).toBe(1);
  });
});

describe('TapBridge after a re-probe (host rescind + re-offer)', () => {
  it('follows the new driver: waiting frames go to it in order, records in flight on the old one come back once, lists on, its frames reach the TAP', () => {
    const { memory, driver: old, port, bridge, arena } = setup();
    old.onTxDone = (t) => void arena.done(t); // VmRuntime's routing, handed to the new driver by reprobe()
    port.queue.push(frame(1), frame(2), frame(3));
    old.answers = [XMIT_IN_PLACE, XMIT_BUSY];
    expect(bridge.poll()).toBe(1); // 1 in flight on the old device, 2 and 3 wait in the arena
    // The rescinded device's teardown returns what it had in flight; from then on it takes nothing.
    old.onTxDone(old.sent[0]!.token);
    old.answers = new Array<number>(8).fill(XMIT_BUSY);
    expect(bridge.poll()).toBe(0);
    const neu = new ScriptedDriver(memory);
    neu.onTxDone = old.onTxDone;
    bridge.setDriver(neu as unknown as GuestNicDriver);
    expect(neu.fragModes).toEqual([true]);
    port.queue.push(frame(4));
    expect(bridge.poll()).toBe(3);
    expect(neu.sent.map((s) => s.bytes[0])).toEqual([2, 3, 4]);
    expect(old.sent).toHaveLength(1);
    expect(neu.flushes).toBeGreaterThan(0);
    for (const s of neu.sent) neu.onTxDone(s.token);
    expect(arena.inFlight).toBe(0);
    expect(arena.done(old.sent[0]!.token)).toBe(false); // a late second return of the old token changes nothing
    expect(bridge.counters).toMatchObject({ tx_frames: 4, tx_in_place: 4, tx_dropped: 0 });
    // Space is reusable: a full window of new frames goes out on the new driver.
    port.queue.push(frame(5), frame(6));
    expect(bridge.poll()).toBe(2);
    expect(neu.sent.map((s) => s.bytes[0])).toEqual([2, 3, 4, 5, 6]);
    const rb = new Uint8Array(128);
    rb.set(frame(7), 10);
    neu.onFrame(rb, 10, 60, newRxMeta(0, 8));
    expect(port.written.map((w) => w.bytes[0])).toEqual([7]);
  });
});

describe('TapBridge receive with an 802.1Q PPI (trunk port)', () => {
  // PPI value: priority 5 (bits 0-2), VLAN 10 (bits 4-15); on the wire TCI = 5 << 13 | 10.
  const ppi = (10 << 4) | 5;
  it('a contiguous frame goes to the port with the tag to put back; an untagged one without', () => {
    const { driver, port, bridge } = setup();
    const rb = new Uint8Array(128);
    rb.set(frame(3), 0);
    const meta = newRxMeta(0, 8);
    meta.flags = RX_F_VLAN;
    meta.vlan = ppi;
    driver.onFrame(rb, 0, 60, meta);
    meta.flags = 0;
    driver.onFrame(rb, 0, 60, meta);
    expect(port.written.map((w) => w.tci)).toEqual([(5 << 13) | 10, 0]);
    expect(port.written[0]!.bytes).toEqual([...frame(3)]);
    expect(bridge.counters.rx_vlan_tagged).toBe(1);
  });

  it('a fragment list carries the tag too', () => {
    const { driver, port } = setup();
    const rb = new Uint8Array(4096);
    rb.set(frame(4, 100), 0);
    rb.fill(0xb2, 1000, 1100);
    const meta = newRxMeta(0, 8);
    meta.flags = RX_F_FRAGS | RX_F_RSC | RX_F_VLAN;
    meta.vlan = ppi;
    meta.fragments = 2;
    meta.fragOff.set([0, 1000]);
    meta.fragLen.set([100, 100]);
    driver.onFrame(rb, 0, 200, meta);
    expect(port.written).toHaveLength(1);
    expect(port.written[0]!.frags!.map((f) => f.length)).toEqual([100, 100]);
    expect(port.written[0]!.tci).toBe((5 << 13) | 10);
  });

  it('an 802.1p priority-only PPI (VLAN id 0) goes back as a priority tag, contiguous and as a list; only an all-zero PPI carries nothing', () => {
    const { driver, port, bridge } = setup();
    const rb = new Uint8Array(4096);
    rb.set(frame(5, 100), 0);
    rb.fill(0xb3, 1000, 1100);
    const meta = newRxMeta(0, 8);
    for (const [flags, ppi] of [[RX_F_VLAN, 3], [RX_F_VLAN | RX_F_FRAGS | RX_F_RSC, 3], [RX_F_VLAN, 1 << 3], [RX_F_VLAN, 0], [RX_F_VLAN | RX_F_FRAGS | RX_F_RSC, 0]] as const) {
      meta.flags = flags;
      meta.vlan = ppi;
      meta.fragments = 2;
      meta.fragOff.set([0, 1000]);
      meta.fragLen.set([100, 100]);
      driver.onFrame(rb, 0, flags & RX_F_FRAGS ? 200 : 100, meta);
    }
    // Priority 3 (PCP bits 13-15), VID 0; DEI alone (bit 12); all zero: untagged.
    expect(port.written.map((w) => [w.frags === null ? 'frame' : 'list', w.tci])).toEqual([
      ['frame', 3 << 13],
      ['list', 3 << 13],
      ['frame', 1 << 12],
      ['frame', 0],
      ['list', 0],
    ]);
    expect(bridge.counters.rx_vlan_tagged).toBe(3);
  });
});

describe('TapBridge fragment-list receive', () => {
  it('turns lists on without a capture, off with one and at close', () => {
    expect(setup().driver.fragModes).toEqual([true]);
    const { driver, bridge } = setup(8 * MAX_TAP_READ_LEN, {});
    expect(driver.fragModes).toEqual([false]);
    bridge.close();
    expect(driver.fragModes).toEqual([false, false]);
  });

  it('writes an RSC fragment list to the port as the list, with GSO metadata from the first fragment', () => {
    const { driver, port } = setup();
    // An IPv4 TCP RSC packet: headers + 100 bytes in fragment 0 (IP length of that segment), 2 × 100 more elsewhere.
    const rb = new Uint8Array(4096);
    const hdr = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, 0x45, 0, 0, 140, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    rb.set(hdr, 1000);
    rb.set([0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0], 1034);
    rb.fill(0xa1, 1054, 1154);
    rb.fill(0xa2, 2000, 2100);
    rb.fill(0xa3, 3000, 3100);
    const meta = newRxMeta(0, 8);
    meta.flags = RX_F_FRAGS | RX_F_RSC;
    meta.fragments = 3;
    meta.fragOff.set([1000, 2000, 3000]);
    meta.fragLen.set([154, 100, 100]);
    driver.onFrame(rb, 1000, 354, meta);
    expect(port.written).toHaveLength(1);
    const w = port.written[0]!;
    expect(w.frags!.map((f) => f.length)).toEqual([154, 100, 100]);
    expect(w.bytes.slice(154)).toEqual([...new Array(100).fill(0xa2), ...new Array(100).fill(0xa3)]);
    expect(w.meta).toMatchObject({ gsoType: FRAME_GSO_TCPV4, csumStart: 34, csumOffset: 16, hdrLen: 54 });
    expect((w.bytes[16]! << 8) | w.bytes[17]!).toBe(340); // IP total length now covers the whole list
  });
});
