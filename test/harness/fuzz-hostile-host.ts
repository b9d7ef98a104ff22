// A hostile host against the real guest driver (issue 9): a ScriptedHost that, after an honest
// bring-up, sends whatever the actions say — transfer-page packets with ranges outside the
// buffer, PPI loops, oversize frames, bogus control responses and indications, bogus in-band
// tables and VF associations, completions for requests never sent, link flaps, a rescind.
import fc from 'fast-check';
import * as W from '../../src/wire/index.js';
import { ManualClock } from '../../src/core/index.js';
import { NetvscDevice, type DeviceState, type SendSections } from '../../src/guest/netvsc/index.js';
import type { VmbusPacket } from '../../src/vmbus/index.js';
import { ScriptedHost } from './scripted-host.js';
import { boundedSettle, check, typedOnly } from './fuzz-kit.js';
import { buildRndis, testFrame, type RawRndis } from './fuzz-hostile-guest.js';

/** Guest pages for xmitInPlace frames (Contract A), described by a GPADL before the probe: 8 slots. */
const IN_PLACE_SLOT = 8192;
const IN_PLACE_PAGES = 16;
const EDGE = [0, 1, 4, 7, 8, 12, 16, 20, 24, 36, 40, 44, 60, 64, 1514, 1728, 4096, 65535, 65536, 0x7fffffff, 0xfffffff0, 0xffffffff];
const u32 = (): fc.Arbitrary<number> => fc.oneof(fc.constantFrom(...EDGE), fc.nat({ max: 0xffffffff }), fc.nat({ max: 300 }));
const bytes = (max: number): fc.Arbitrary<number[]> => fc.array(fc.nat({ max: 255 }), { maxLength: max });

/** One range of a transfer-page packet: a good frame, a raw RNDIS message, or raw offset/length. */
export type HostRange =
  | { readonly r: 'good'; readonly len: number }
  | { readonly r: 'rndis'; readonly m: RawRndis; readonly lenDelta: number }
  | { readonly r: 'raw'; readonly off: number; readonly len: number };

export type HostAction =
  | { readonly k: 'xfer'; readonly ranges: readonly HostRange[]; readonly patch: { readonly pageset?: number; readonly nvspType?: number; readonly rangeCount?: number; readonly nvspLen?: number; readonly headerLen?: number } }
  | { readonly k: 'control'; readonly type: number; readonly reqId: number; readonly status: number; readonly body: readonly number[]; readonly lenPatch: number | null }
  | { readonly k: 'link'; readonly up: boolean; readonly bufLen: number; readonly bufOff: number }
  | { readonly k: 'inband'; readonly type: number; readonly words: readonly number[] }
  | { readonly k: 'comp'; readonly lo: number; readonly body: readonly number[] }
  | { readonly k: 'send'; readonly n: number; readonly len: number; readonly more: boolean; readonly flags: number }
  | { readonly k: 'sendInPlace'; readonly n: number; readonly len: number; readonly more: boolean }
  | { readonly k: 'hold'; readonly on: boolean }
  | { readonly k: 'rescind' };

const rawPpi = fc.oneof(
  fc.record({ size: fc.constant(16), type: fc.constantFrom(0, 1, 2, 4, 6, 9, 12, 21), offset: fc.constant(12), value: u32() }),
  fc.record({ size: u32(), type: u32(), offset: u32(), value: u32() }),
);
const rawRndis: fc.Arbitrary<RawRndis> = fc.record({
  frameLen: fc.oneof(fc.constantFrom(0, 1, 14, 60, 1514, 1600, 1700, 4000), fc.nat({ max: 1600 })),
  dst: fc.constantFrom('A' as const, 'bcast' as const),
  ppis: fc.oneof(fc.constant([]), fc.array(rawPpi, { maxLength: 4 })),
  patch: fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.constantFrom(0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40), u32()), { maxLength: 2 })),
  pad: fc.constantFrom(0, 0, 4, 8),
});
const range: fc.Arbitrary<HostRange> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ r: fc.constant('good' as const), len: fc.integer({ min: 14, max: 1514 }) }) },
  { weight: 3, arbitrary: fc.record({ r: fc.constant('rndis' as const), m: rawRndis, lenDelta: fc.oneof(fc.constant(0), fc.integer({ min: -50, max: 5000 })) }) },
  { weight: 1, arbitrary: fc.record({ r: fc.constant('raw' as const), off: u32(), len: u32() }) },
);

export const hostAction: fc.Arbitrary<HostAction> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('xfer' as const), ranges: fc.array(range, { minLength: 1, maxLength: 6 }), patch: fc.oneof(fc.constant({}), fc.record({ pageset: u32(), nvspType: u32(), rangeCount: u32(), nvspLen: fc.constantFrom(0, 2, 4, 8, 40), headerLen: fc.constantFrom(16, 24, 32, 64) }, { requiredKeys: [] })) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('control' as const), type: fc.constantFrom(W.RNDIS_MSG_INIT_C, W.RNDIS_MSG_QUERY_C, W.RNDIS_MSG_SET_C, W.RNDIS_MSG_INDICATE, W.RNDIS_MSG_KEEPALIVE, W.RNDIS_MSG_KEEPALIVE_C, 0x80000007, 0), reqId: u32(), status: u32(), body: bytes(64), lenPatch: fc.option(u32()) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('link' as const), up: fc.boolean(), bufLen: fc.oneof(fc.constant(0), u32()), bufOff: fc.oneof(fc.constant(0), u32()) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('inband' as const), type: fc.oneof(fc.constantFrom(W.NVSP_MSG5_TYPE_SEND_INDIRECTION_TABLE, W.NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION, 1, 2, 108, 0), u32()), words: fc.array(u32(), { maxLength: 24 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('comp' as const), lo: u32(), body: bytes(16) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('send' as const), n: fc.integer({ min: 1, max: 12 }), len: fc.integer({ min: 14, max: 1514 }), more: fc.boolean(), flags: fc.nat({ max: 31 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('sendInPlace' as const), n: fc.integer({ min: 1, max: 12 }), len: fc.oneof(fc.integer({ min: 14, max: 1514 }), fc.integer({ min: 6000, max: IN_PLACE_SLOT })), more: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('hold' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ k: 'rescind' as const }) },
);

/** What an attached device holds (its queues and send-section map). */
type Attachment = Extract<DeviceState, { kind: 'attached' }>['att'];

const MAC_A = [0x00, 0x15, 0x5d, 0x01, 0x02, 0x03] as const;
const PEER = [0x00, 0x15, 0x5d, 0x00, 0x00, 0x99] as const;

/** The guest under attack, its scripted host, and what each side saw. */
export class HostileHostWorld {
  actions = 0;
  rescinded = false;
  readonly got: Uint8Array[] = [];
  /** Completions of our transfer-page packets per trans_id (exactly one each is the rule). */
  readonly compCount = new Map<number, number>();
  readonly sentTids: number[] = [];
  private accepted = 0;
  private seq = 0;
  /** xmitInPlace tokens taken in place, and onTxDone calls per token (exactly one each is the rule). */
  private nextToken = 1;
  readonly inPlace = new Set<number>();
  readonly txDone = new Map<number, number>();

  private constructor(
    readonly host: ScriptedHost,
    readonly dev: NetvscDevice,
    /** Free guest pages before the probe: after remove() every page must be back (no leak). */
    private readonly freeBefore: number,
    /** GPA of the in-place frame slots. */
    private readonly inPlaceBase: number,
  ) {}

  static async create(): Promise<HostileHostWorld> {
    const host = new ScriptedHost();
    const b = host.bus;
    await host.pump(b.guest.requestOffers());
    const first = b.allocator.allocContiguous(IN_PLACE_PAGES);
    await host.pump(b.guest.establishGpadl(Array.from({ length: IN_PLACE_PAGES }, (_, i) => first + i)));
    const freeBefore = b.allocator.freePages;
    const dev = await host.pump(NetvscDevice.probe({ bus: b.guest, memory: b.memory, allocator: b.allocator, loop: b.loop, clock: new ManualClock(), rxSections: 64, txSections: 16, ringPages: 16, poolSlots: 4 }));
    await host.pump(dev.open());
    const w = new HostileHostWorld(host, dev, freeBefore, b.memory.gpa(first));
    dev.onTxDone = (t) => {
      check(w.inPlace.has(t), `onTxDone(${t}) for a token never taken in place`);
      w.txDone.set(t, (w.txDone.get(t) ?? 0) + 1);
    };
    dev.onReceive = (u8, off, len) => w.got.push(u8.slice(off, off + len));
    // Count guest completions ourselves (the scripted host's Map would hide a duplicate).
    const ch = host.channels[0]!;
    const inner = ch.onPacket;
    ch.onPacket = (pkt: VmbusPacket, c) => {
      if (pkt.type === W.VM_PKT_COMP) w.compCount.set(pkt.transIdLo, (w.compCount.get(pkt.transIdLo) ?? 0) + 1);
      try {
        inner(pkt, c);
      } catch {
        /* the scripted host's own parsing is not under test */
      }
    };
    return w;
  }

  async step(act: HostAction): Promise<void> {
    this.actions++;
    try {
      this.apply(act);
    } catch (e) {
      if (e instanceof Error && e.name === 'InvariantError') throw e;
      // The scripted host's helpers fail on a full or closed ring; that is the attacker's problem.
    }
    await boundedSettle(this.host.bus.loop, `after ${act.k}`);
    this.invariants(act.k);
    if (this.actions % 8 === 0 && !this.rescinded) await this.peerStillWorks();
  }

  invariants(where: string): void {
    for (const [tid, n] of this.compCount) check(n <= 1, `${where}: transfer-page packet ${tid} completed ${n} times`);
    for (const [t, n] of this.txDone) check(n === 1, `${where}: in-place token ${t} handed back ${n} times`);
    if (!this.rescinded && this.host.channels[0]?.state === 'open') {
      // Linux fault 2 (protocol.md §8): every transfer-page packet, good or rejected, is completed.
      for (const tid of this.sentTids) check(this.compCount.get(tid) === 1, `${where}: transfer-page packet ${tid} never completed`);
    }
    if (this.dev.state.kind === 'attached') {
      const att = this.dev.state.att;
      let outstanding = 0;
      for (const q of att.queues) outstanding += q.tx.outstanding + (q.tx.idle ? 0 : 1);
      check(att.sections.inUse <= outstanding, `${where}: ${att.sections.inUse} send sections in use but only ${outstanding} sends in flight`);
      check(att.sections.inUse >= 0 && att.sections.inUse <= att.sections.count, `${where}: section count out of range`);
      sectionOwnership(att.queues, att.sections, where);
    }
  }

  /** A good frame from the host arrives intact and completes SUCCESS; a frame from the guest reaches the host. */
  async peerStillWorks(): Promise<void> {
    if (this.host.channels[0]?.state !== 'open') return;
    const f = testFrame(MAC_A, PEER, 100 + (this.seq % 1000), this.seq++);
    const n = this.got.length;
    const tid = this.host.sendFrames([f]);
    this.sentTids.push(tid);
    await boundedSettle(this.host.bus.loop, 'peer frame');
    check(this.got.length === n + 1 && eq(this.got[n]!, f), 'a good frame from the host was not delivered intact after the attack');
    check(this.host.completions.get(tid) === 1, 'a good transfer-page packet was not completed SUCCESS');
    const held = this.host.holdSendCompletions;
    this.host.releaseSends();
    const before = this.host.frames.length;
    const g = testFrame(PEER, MAC_A, 80, this.seq++);
    if (this.dev.send(g, 0, g.length)) {
      this.accepted++;
      await boundedSettle(this.host.bus.loop, 'guest frame');
      check(this.host.frames.slice(before).some((x) => eq(x.bytes, g)), 'a frame the guest accepted never reached the host');
    }
    this.host.holdSendCompletions = held;
  }

  /** Releases everything; nothing may stay in use on either side, then the device is removed cleanly. */
  async finish(): Promise<void> {
    if (!this.rescinded) {
      await this.peerStillWorks();
      this.host.releaseSends();
      await boundedSettle(this.host.bus.loop, 'finish');
      this.dev.flush();
      await boundedSettle(this.host.bus.loop, 'finish');
      this.invariants('finish');
      if (this.dev.state.kind === 'attached' && this.host.channels[0]?.state === 'open') {
        const att = this.dev.state.att;
        check(att.queues.every((q) => q.tx.outstanding === 0), 'sends still outstanding after every completion was released');
        check(att.sections.inUse === 0, `${att.sections.inUse} send sections leaked`);
        check(this.host.frames.length === this.accepted, `guest accepted ${this.accepted} frames, host got ${this.host.frames.length}`);
        check(this.txDone.size === this.inPlace.size, `${this.inPlace.size - this.txDone.size} in-place frames not handed back after every completion`);
      }
    }
    let removed = true;
    try {
      await this.host.pump(this.dev.remove());
    } catch (e) {
      typedOnly(e, 'device remove');
      // A rescinded device has nobody to talk to: removing it must not depend on the host.
      check(!this.rescinded, `remove() after a rescind failed: ${e instanceof Error ? e.message : String(e)}`);
      removed = false;
    }
    await boundedSettle(this.host.bus.loop, 'after remove');
    // Whatever the host did (even a rescind), a completed remove gives back every guest page: the
    // rings, the receive and send buffers, the page pool and the control pages.
    const free = this.host.bus.allocator.freePages;
    if (removed) check(free === this.freeBefore, `remove() left ${this.freeBefore - free} guest pages allocated${this.rescinded ? ' after a rescind' : ''}`);
    // Contract A: once the device is gone every in-place frame was handed back, once (completion or reclaim).
    if (removed) check(this.txDone.size === this.inPlace.size, `remove() left ${this.inPlace.size - this.txDone.size} in-place frames never handed back`);
    this.invariants('after remove');
  }

  private apply(act: HostAction): void {
    const h = this.host;
    switch (act.k) {
      case 'xfer': {
        const ranges = act.ranges.map((r, i) => {
          if (r.r === 'raw') return { off: r.off >>> 0, len: r.len >>> 0 };
          const b = r.r === 'good' ? good(testFrame(MAC_A, PEER, r.len, i)) : buildRndis(r.m, PEER, i);
          const slice = b.subarray(0, Math.min(b.length, 1728));
          const at = h.place(slice);
          return { off: at, len: r.r === 'good' ? b.length : Math.max(0, b.length + r.lenDelta) };
        });
        this.sentTids.push(h.sendXfer(ranges, 0, act.patch));
        return;
      }
      case 'control': {
        const b = new Uint8Array(16 + act.body.length);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, act.type >>> 0, true);
        dv.setUint32(4, act.lenPatch ?? b.length, true);
        dv.setUint32(8, act.reqId >>> 0, true);
        dv.setUint32(12, act.status >>> 0, true);
        b.set(act.body, 16);
        this.sentTids.push(h.sendXfer([{ off: h.place(b), len: b.length }]));
        return;
      }
      case 'link': {
        const b = new Uint8Array(20 + 8);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, W.RNDIS_MSG_INDICATE, true);
        dv.setUint32(4, b.length, true);
        dv.setUint32(8, act.up ? W.RNDIS_STATUS_MEDIA_CONNECT : W.RNDIS_STATUS_MEDIA_DISCONNECT, true);
        dv.setUint32(12, act.bufLen >>> 0, true);
        dv.setUint32(16, act.bufOff >>> 0, true);
        this.sentTids.push(h.sendXfer([{ off: h.place(b), len: b.length }]));
        return;
      }
      case 'inband': {
        const b = new Uint8Array(4 + 4 * act.words.length);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, act.type >>> 0, true);
        act.words.forEach((x, i) => dv.setUint32(4 + 4 * i, x >>> 0, true));
        h.sendInband(b);
        return;
      }
      case 'comp':
        h.sendCompletion(act.lo >>> 0, act.body.length > 0 ? Uint8Array.from(act.body) : null);
        return;
      case 'send': {
        for (let i = 0; i < act.n; i++) {
          const f = testFrame(PEER, MAC_A, act.len, i);
          const meta = { flags: act.flags, hash: i * 2654435761, vlan: 5, csum: 0, lso: 0 };
          try {
            if (this.dev.send(f, 0, f.length, meta, act.more && i < act.n - 1)) this.accepted++;
          } catch (e) {
            typedOnly(e, 'dev.send');
          }
        }
        this.dev.flush();
        return;
      }
      case 'sendInPlace': {
        const u8 = this.dev.memory.u8;
        for (let i = 0; i < act.n; i++) {
          const at = this.inPlaceBase + (this.nextToken % (IN_PLACE_PAGES * 4096 / IN_PLACE_SLOT)) * IN_PLACE_SLOT;
          u8.set(testFrame(PEER, MAC_A, act.len, i), at);
          const token = this.nextToken++;
          try {
            const r = this.dev.xmitInPlace(at, act.len, { csum: false, mss: 0 }, act.more && i < act.n - 1, token);
            if (r !== 0) this.accepted++;
            if (r === 2) this.inPlace.add(token);
          } catch (e) {
            typedOnly(e, 'dev.xmitInPlace');
          }
        }
        this.dev.flush();
        return;
      }
      case 'hold':
        if (act.on) h.holdSendCompletions = true;
        else h.releaseSends();
        return;
      case 'rescind':
        this.rescinded = true;
        h.device.rescind();
        return;
    }
  }
}

/**
 * The per-descriptor ownership walk (issue 9 invariant 3, read-only): every send section marked in
 * use belongs to exactly one in-flight NVSP 107 descriptor (= requestor cookie) or to the one open
 * batch of exactly one queue; no owned section is marked free; each queue's descriptors in flight
 * equal its outstanding sends, and an open channel's requestor has at least that many ids out.
 */
export function sectionOwnership(queues: Attachment['queues'], sections: SendSections, where: string): void {
  const owner = new Map<number, string>();
  queues.forEach((q, qi) => {
    q.tx.forEachOwnedSection((s, d) => {
      const who = `queue ${qi} ${d < 0 ? 'open batch' : `descriptor ${d}`}`;
      const prev = owner.get(s);
      check(prev === undefined, `${where}: send section ${s} owned by ${prev} and by ${who}`);
      check(s >= 0 && s < sections.count && sections.isUsed(s), `${where}: send section ${s} owned by ${who} but marked free`);
      owner.set(s, who);
    });
    check(q.tx.descriptorsInFlight === q.tx.outstanding, `${where}: queue ${qi} has ${q.tx.descriptorsInFlight} descriptors taken but ${q.tx.outstanding} sends outstanding`);
    const rq = q.channel.requestor;
    if (rq && q.channel.state === 'open') check(q.tx.outstanding <= rq.outstanding, `${where}: queue ${qi} has ${q.tx.outstanding} sends in flight but its requestor only ${rq.outstanding} ids`);
  });
  check(owner.size === sections.inUse, `${where}: ${sections.inUse} send sections marked in use, ${owner.size} owned by a request`);
}

function good(f: Uint8Array): Uint8Array {
  const b = new Uint8Array(44 + f.length);
  W.writeRndisPacketHeader(new DataView(b.buffer), 0, 0, f.length);
  b.set(f, 44);
  return b;
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export async function runHostileHost(actions: readonly HostAction[]): Promise<HostileHostWorld> {
  const w = await HostileHostWorld.create();
  for (const a of actions) await w.step(a);
  await w.finish();
  return w;
}
