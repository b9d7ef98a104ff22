// A hostile guest against the real host (issue 9): actions are plain JSON (so a failing list is a
// seed file), each one raw VMBus / NVSP / RNDIS bytes sent by a ScriptedGuest on VM A, while VMs B
// and C behave. After every action the invariants of docs/robustness.md are checked.
import fc from 'fast-check';
import * as W from '../../src/wire/index.js';
import { HypervHost, type HostNic } from '../../src/host/index.js';
import { PAGE_SIZE, type Channel, type VmbusPacket } from '../../src/vmbus/index.js';
import { ScriptedGuest, TestLab } from './scripted-guest.js';
import { boundedSettle, check, typedOnly } from './fuzz-kit.js';

/** 32-bit values that sit on the edges of every length, offset and index check. */
const EDGE = [0, 1, 2, 3, 4, 7, 8, 12, 15, 16, 20, 24, 36, 40, 44, 60, 64, 1514, 1624, 4095, 4096, 6144, 65535, 65536, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];
const u32 = (): fc.Arbitrary<number> => fc.oneof(fc.constantFrom(...EDGE), fc.nat({ max: 0xffffffff }), fc.nat({ max: 300 }));
const bytes = (max: number): fc.Arbitrary<number[]> => fc.array(fc.nat({ max: 255 }), { maxLength: max });

/** One PPI as raw fields (size, type word, offset, value): sane ones, loops, zero sizes, overruns. */
export interface RawPpi { readonly size: number; readonly type: number; readonly offset: number; readonly value: number }
/** An RNDIS PACKET whose header fields may each be overridden. */
export interface RawRndis {
  readonly frameLen: number;
  readonly dst: 'B' | 'C' | 'bcast' | 'A';
  readonly ppis: readonly RawPpi[];
  /** [byte offset in the 44-byte header, u32 value] overrides. */
  readonly patch: readonly (readonly [number, number])[];
  readonly pad: number;
}

export type GuestAction =
  | { readonly k: 'raw'; readonly type: number; readonly flags: number; readonly lo: number; readonly hi: number; readonly extra: number; readonly payload: readonly number[] }
  | { readonly k: 'garbageDesc'; readonly w0: number; readonly w1: number }
  | { readonly k: 'init'; readonly min: number; readonly max: number; readonly request: boolean }
  | { readonly k: 'ndisConfig'; readonly mtu: number; readonly request: boolean }
  | { readonly k: 'ndisVer'; readonly major: number; readonly minor: number }
  | { readonly k: 'recvBuf'; readonly pages: number; readonly handle: number | null }
  | { readonly k: 'sendBuf'; readonly pages: number; readonly handle: number | null }
  | { readonly k: 'revoke'; readonly which: 'recv' | 'send'; readonly id: number }
  | { readonly k: 'subchannel'; readonly op: number; readonly n: number }
  | { readonly k: 'subOpen'; readonly n: number; readonly open: number; readonly sends: number; readonly closeMidStream: 'none' | 'some' | 'all'; readonly complete: boolean }
  | { readonly k: 'subClose'; readonly n: number }
  | { readonly k: 'nvspRaw'; readonly type: number; readonly body: readonly number[]; readonly request: boolean }
  | { readonly k: 'oid'; readonly set: boolean; readonly oid: number; readonly info: readonly number[]; readonly lenPatch: number | null }
  | { readonly k: 'rndisRaw'; readonly body: readonly number[] }
  | { readonly k: 'data'; readonly section: number; readonly sizePatch: number | null; readonly msgs: readonly RawRndis[] }
  | { readonly k: 'gpa'; readonly section: number; readonly size: number; readonly ranges: readonly { readonly pfn: number; readonly own: boolean; readonly offset: number; readonly count: number }[] }
  | { readonly k: 'comp'; readonly lo: number; readonly hi: number; readonly body: readonly number[] }
  | { readonly k: 'completeRx'; readonly n: number; readonly status: number; readonly twice: boolean }
  | { readonly k: 'inbound'; readonly n: number; readonly bcast: boolean }
  | { readonly k: 'staleComp'; readonly pick: number; readonly status: number }
  | { readonly k: 'close'; readonly bringUp: boolean }
  | { readonly k: 'bringUp' };

const OIDS = [
  W.RNDIS_OID_GEN_CURRENT_PACKET_FILTER, W.RNDIS_OID_802_3_PERMANENT_ADDRESS, W.RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE,
  W.OID_GEN_RECEIVE_SCALE_CAPABILITIES, W.OID_GEN_RECEIVE_SCALE_PARAMETERS, W.OID_TCP_OFFLOAD_PARAMETERS,
  W.OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, W.OID_OFFLOAD_ENCAPSULATION, W.RNDIS_OID_GEN_LINK_SPEED,
  W.RNDIS_OID_GEN_MEDIA_CONNECT_STATUS, W.RNDIS_OID_GEN_FRIENDLY_NAME, W.RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER,
  W.RNDIS_OID_802_3_CURRENT_ADDRESS, W.RNDIS_OID_802_3_MULTICAST_LIST, W.RNDIS_OID_GEN_XMIT_OK,
];
/** PPI types: checksum, IPsec, LSO, classification hash, VLAN, original packet info, hash value, pktinfo id, junk. */
const PPI_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 21, 0x80000000, 0x7fffffff];

const rawPpi: fc.Arbitrary<RawPpi> = fc.oneof(
  fc.record({ size: fc.constant(16), type: fc.constantFrom(...PPI_TYPES), offset: fc.constant(12), value: u32() }),
  fc.record({ size: u32(), type: fc.constantFrom(...PPI_TYPES), offset: u32(), value: u32() }),
);
const rawRndis: fc.Arbitrary<RawRndis> = fc.record({
  frameLen: fc.oneof(fc.constantFrom(0, 1, 13, 14, 60, 1514, 1515, 1600, 4000, 6000), fc.nat({ max: 1600 })),
  dst: fc.constantFrom('B', 'C', 'bcast', 'A'),
  ppis: fc.oneof(fc.constant([]), fc.array(rawPpi, { maxLength: 4 })),
  patch: fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.constantFrom(0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40), u32()), { maxLength: 2 })),
  pad: fc.constantFrom(0, 0, 4, 8, 100),
});

export const guestAction: fc.Arbitrary<GuestAction> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('raw' as const), type: fc.oneof(fc.nat({ max: 15 }), fc.nat({ max: 0xffff })), flags: fc.nat({ max: 0xffff }), lo: u32(), hi: u32(), extra: fc.nat({ max: 4 }), payload: bytes(120) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('garbageDesc' as const), w0: u32(), w1: u32() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('init' as const), min: fc.oneof(fc.constantFrom(0, 2, 0x30002, 0x40000, 0x50000, 0x60000, 0x60001, 0x70000), u32()), max: fc.oneof(fc.constantFrom(0, 2, 0x30002, 0x40000, 0x50000, 0x60000, 0x60001, 0x70000), u32()), request: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('ndisConfig' as const), mtu: u32(), request: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('ndisVer' as const), major: u32(), minor: u32() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('recvBuf' as const), pages: fc.constantFrom(0, 1, 2, 8, 64), handle: fc.option(u32()) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('sendBuf' as const), pages: fc.constantFrom(0, 1, 2, 8, 32), handle: fc.option(u32()) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('revoke' as const), which: fc.constantFrom('recv' as const, 'send' as const), id: u32() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('subchannel' as const), op: fc.constantFrom(0, 1, 2, 0xffffffff), n: u32() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('subOpen' as const), n: fc.oneof(fc.integer({ min: 1, max: 8 }), u32()), open: fc.nat({ max: 8 }), sends: fc.nat({ max: 6 }), closeMidStream: fc.constantFrom('none' as const, 'some' as const, 'all' as const), complete: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('subClose' as const), n: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('nvspRaw' as const), type: fc.oneof(fc.integer({ min: 0, max: 140 }), u32()), body: bytes(48), request: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('oid' as const), set: fc.boolean(), oid: fc.oneof(fc.constantFrom(...OIDS), u32()), info: bytes(200), lenPatch: fc.option(u32()) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rndisRaw' as const), body: bytes(80) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('data' as const), section: fc.oneof(fc.nat({ max: 40 }), u32()), sizePatch: fc.option(u32(), { freq: 4 }), msgs: fc.array(rawRndis, { minLength: 1, maxLength: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('gpa' as const), section: fc.oneof(fc.constant(0xffffffff), fc.nat({ max: 40 }), u32()), size: u32(), ranges: fc.array(fc.record({ pfn: u32(), own: fc.boolean(), offset: u32(), count: u32() }), { maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('comp' as const), lo: u32(), hi: u32(), body: bytes(16) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('completeRx' as const), n: fc.nat({ max: 5 }), status: fc.constantFrom(1, 2, 0, 0xffffffff), twice: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('inbound' as const), n: fc.integer({ min: 1, max: 12 }), bcast: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('staleComp' as const), pick: fc.nat({ max: 50 }), status: fc.constantFrom(1, 2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('close' as const), bringUp: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ k: 'bringUp' as const }) },
);

const MAC = { A: '00:15:5d:00:00:0a', B: '00:15:5d:00:00:0b', C: '00:15:5d:00:00:0c' } as const;
const MACB = { A: [0, 0x15, 0x5d, 0, 0, 0x0a], B: [0, 0x15, 0x5d, 0, 0, 0x0b], C: [0, 0x15, 0x5d, 0, 0, 0x0c], bcast: [255, 255, 255, 255, 255, 255] } as const;

export function testFrame(dst: readonly number[], src: readonly number[], len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst.slice(0, Math.min(6, len)), 0);
  if (len > 6) f.set(src.slice(0, Math.min(6, len - 6)), 6);
  if (len > 13) (f[12] = 0x88), (f[13] = 0xb5);
  for (let i = 14; i < len; i++) f[i] = (i * 7 + seed) & 0xff;
  return f;
}

/** RNDIS PACKET bytes for a raw description (fields patched after the sane layout is written). */
export function buildRndis(m: RawRndis, src: readonly number[], seed: number): Uint8Array {
  const f = testFrame(MACB[m.dst], src, m.frameLen, seed);
  const b = new Uint8Array(44 + 16 * m.ppis.length + f.length + m.pad);
  const dv = new DataView(b.buffer);
  let p = W.writeRndisPacketHeader(dv, 0, m.ppis.length, f.length, m.pad);
  for (const x of m.ppis) {
    dv.setUint32(p, x.size >>> 0, true);
    dv.setUint32(p + 4, x.type >>> 0, true);
    dv.setUint32(p + 8, x.offset >>> 0, true);
    dv.setUint32(p + 12, x.value >>> 0, true);
    p += 16;
  }
  b.set(f, p);
  for (const [at, v] of m.patch) dv.setUint32(at, v >>> 0, true);
  return b;
}

/** Brings a scripted guest up to a usable data path: NVSP, buffers, RNDIS INIT, packet filter. */
export async function fullBringUp(g: ScriptedGuest): Promise<void> {
  await g.bringUp();
  await g.rndis({ ndisMsgType: W.RNDIS_MSG_INIT, msgLen: 24, reqId: 1, majorVer: 1, minorVer: 0, maxXferSize: 0x4000 });
  const info = new Uint8Array(4);
  new DataView(info.buffer).setUint32(0, W.NDIS_PACKET_TYPE_DIRECTED | W.NDIS_PACKET_TYPE_BROADCAST | W.NDIS_PACKET_TYPE_ALL_MULTICAST, true);
  const r = await g.rndis({ ndisMsgType: W.RNDIS_MSG_SET, msgLen: 32, reqId: 2, oid: W.RNDIS_OID_GEN_CURRENT_PACKET_FILTER, infoBuflen: 4, infoBufOffset: 20, devVcHandle: 0, infoBuf: info });
  if (!r || r.ndisMsgType !== W.RNDIS_MSG_SET_C || r.status !== 0) throw new Error('packet filter refused');
}

/** Sends frames from a well-behaved guest in send section `idx`; returns the request cookie. */
export function sendFrames(g: ScriptedGuest, idx: number, frames: readonly Uint8Array[]): number {
  let off = 0;
  frames.forEach((f, i) => {
    const raw = 44 + f.length;
    const pad = i === frames.length - 1 ? 0 : ((raw + 7) & ~7) - raw;
    const b = new Uint8Array(raw + pad);
    const n = W.writeRndisPacketHeader(new DataView(b.buffer), 0, 0, f.length, pad);
    b.set(f, n);
    g.write(g.sendPfns, idx * g.sendSectionSize + off, b);
    off += b.length;
  });
  return g.send({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: idx, sendBufSectionSize: off });
}

/** What the invariants remember between steps for one NIC (the counter balance of its receive side). */
interface Balance { recv: unknown; queues: number; offset: number }

/**
 * The world of one run: a host, hostile VM A and well-behaved VMs B and C on one loop. `step`
 * runs one action then checks every invariant; `finish` proves A can start over and B↔C still work.
 */
export class HostileGuestWorld {
  private readonly balances = new Map<HostNic, Balance>();
  private seq = 0;
  /** A's open sub-channels, each with what arrived on it (completions by cookie, transfer-page packets). */
  private subs: { ch: Channel; comps: Map<number, number>; rx: { lo: number; hi: number }[] }[] = [];
  /** What the sub-channel actions did, over every world of this process (printed by the fuzzer). */
  static readonly subTotals = { requests: 0, granted: 0, opened: 0, sends: 0, checkedDelivered: 0, closedMidStream: 0 };
  /** trans_ids A already completed, to complete again (stale and duplicate ids). */
  private readonly done: { lo: number; hi: number }[] = [];
  actions = 0;

  private constructor(readonly lab: TestLab, readonly a: ScriptedGuest, readonly b: ScriptedGuest, readonly c: ScriptedGuest) {}

  static async create(): Promise<HostileGuestWorld> {
    const lab = new TestLab(new HypervHost({ profile: 'ws2019', ageingMs: 0 }));
    // The scripted guests pump the loop inside their helpers (request, rndis): route that through
    // the bounded, strict pump so nothing the host throws is mistaken for an attacker's own error.
    lab.settle = async () => {
      await boundedSettle(lab.loop, 'inside a guest helper');
    };
    const a = await ScriptedGuest.create(lab, 'vmA', { mac: MAC.A });
    const b = await ScriptedGuest.create(lab, 'vmB', { mac: MAC.B });
    const c = await ScriptedGuest.create(lab, 'vmC', { mac: MAC.C });
    for (const g of [a, b, c]) await fullBringUp(g);
    const w = new HostileGuestWorld(lab, a, b, c);
    w.shield(a);
    return w;
  }

  /** The attacker's own packet handler may choke on what it provoked; that is not the host's fault. */
  private shield(g: ScriptedGuest): void {
    const inner = g.ch.onPacket;
    g.ch.onPacket = (pkt, ch) => {
      try {
        inner(pkt, ch);
      } catch {
        /* the hostile guest ignores its own parse failures */
      }
    };
  }

  async step(act: GuestAction): Promise<void> {
    this.actions++;
    try {
      // A channel the attacker broke (garbage descriptor) is reopened and brought up again, which
      // is itself a check: the host must accept a fresh start after any failure.
      if (this.a.ch.state !== 'open' && act.k !== 'close') {
        await this.reopen();
        await fullBringUp(this.a);
      }
      await this.apply(act);
    } catch (e) {
      // The attacker's helpers (ScriptedGuest) throw plain errors on a full ring or a missing
      // reply; only what the host loop raises is judged, in settle().
      if (e instanceof Error && e.name === 'InvariantError') throw e;
    }
    await this.settle(`after ${act.k}`);
    // Nobody reads these replies later; dropping them keeps a long run (the soak) from growing.
    for (const g of [this.a, this.b, this.c]) g.completions.clear();
    this.a.inband.length = 0;
    this.invariants(act.k);
    this.channelsAgree(act.k);
    if (this.actions % 8 === 0) await this.bystanders();
  }

  /**
   * Host and guest agree on A's open channels: every channel of A's device open on the host has a
   * NetVSP queue, and their number is what A holds open (primary + sub-channels) — a sub-channel
   * A closed mid-stream is gone on the host too, and the host offered exactly the sub-channels A sees.
   */
  private channelsAgree(where: string): void {
    const nic = this.a.nic;
    const hostOpen = nic.device.channels.length;
    check(nic.coordinator.openQueues().length === hostOpen, `${where}: ${hostOpen} channels of A open on the host but ${nic.coordinator.openQueues().length} queues`);
    const guestOpen = (this.a.ch.state === 'open' ? 1 : 0) + this.subs.filter((s) => s.ch.state === 'open').length;
    check(guestOpen === hostOpen, `${where}: A holds ${guestOpen} channels open, the host ${hostOpen}`);
    const inst = this.a.vm.guest.offers.get(this.a.ch.relid)?.ifInstance;
    const seen = [...this.a.vm.guest.offers.values()].filter((o) => o.ifInstance === inst && o.subChannelIndex >= 1).length;
    if (inst !== undefined) check(seen === nic.device.relids.length - 1, `${where}: A sees ${seen} sub-channel offers, the host made ${nic.device.relids.length - 1}`);
  }

  /**
   * Targeted sub-channel checks (issue 9): the SUBCHANNEL request is answered; on a ready NIC a
   * grant is offered at once; every NVSP 107 sent on a sub-channel that stayed open is completed
   * exactly once, and with a send buffer, a valid section and frames for B, SUCCESS and delivered.
   */
  private async subOpen(act: Extract<GuestAction, { k: 'subOpen' }>): Promise<void> {
    const g = this.a;
    const bus = g.vm.guest;
    const offersBefore = this.a.nic.device.relids.length - 1;
    // SUBCHANNEL needs negotiated NVSP (≥ 5); a revoked receive buffer does not forbid it.
    const ready = g.nic.coordinator.nvspState.kind === 'ready';
    const cookie = g.send({ type: W.NVSP_MSG5_TYPE_SUBCHANNEL, completion: false, op: W.NVSP_SUBCHANNEL_ALLOCATE, numSubchannels: act.n >>> 0 });
    await boundedSettle(this.lab.loop, 'subchannel request');
    const comp = g.completions.get(cookie);
    check(comp !== undefined, 'SUBCHANNEL request got no completion');
    const m = ScriptedGuest.parse(comp, true) as { status?: number; numSubchannels?: number };
    HostileGuestWorld.subTotals.requests++;
    if (m.status === W.NVSP_STAT_SUCCESS) {
      HostileGuestWorld.subTotals.granted += m.numSubchannels ?? 0;
      check(ready, 'SUBCHANNEL granted on a NIC that is not ready');
      check(g.nic.device.relids.length - 1 === offersBefore + (m.numSubchannels ?? 0), `granted ${m.numSubchannels} but ${g.nic.device.relids.length - 1 - offersBefore} offered`);
    }
    const inst = bus.offers.get(g.ch.relid)?.ifInstance;
    const free = [...bus.offers.values()].filter((o) => o.ifInstance === inst && o.subChannelIndex >= 1 && !this.subs.some((s) => s.ch.relid === o.childRelid && s.ch.state === 'open'));
    for (const o of free.slice(0, act.open)) {
      let ch: Channel;
      try {
        ch = await bus.open(o, { ringPages: 8, maxPktSize: W.NETVSC_MAX_PKT_SIZE });
      } catch (e) {
        typedOnly(e, 'sub-channel open');
        continue;
      }
      const sub = { ch, comps: new Map<number, number>(), rx: [] as { lo: number; hi: number }[] };
      ch.onPacket = (pkt: VmbusPacket) => {
        try {
          if (pkt.type === W.VM_PKT_COMP) {
            const c = ch.completeRequest(pkt);
            sub.comps.set(c, pkt.len - pkt.payloadOffset >= 8 ? pkt.dv.getUint32(pkt.payloadOffset + 4, true) : -1);
          } else if (pkt.type === W.VM_PKT_DATA_USING_XFER_PAGES) sub.rx.push({ lo: pkt.transIdLo, hi: pkt.transIdHi });
        } catch {
          /* the attacker's own parse failures */
        }
      };
      this.subs.push(sub);
      HostileGuestWorld.subTotals.opened++;
    }
    await boundedSettle(this.lab.loop, 'sub-channel open');
    const open = this.subs.filter((s) => s.ch.state === 'open');
    if (open.length === 0) return;
    const sent: { sub: (typeof open)[number]; cookie: number; frame: Uint8Array }[] = [];
    const rxBefore = this.b.rx.length;
    for (let i = 0; i < act.sends; i++) {
      const sub = open[i % open.length]!;
      const f = testFrame(MACB.B, MACB.A, 100 + 50 * i, i);
      const idx = 8 + (i % 8); // sections the primary's data actions rarely name
      let cookie: number;
      try {
        if (g.sendPfns.length > 0 && (idx + 1) * g.sendSectionSize <= g.sendPfns.length * PAGE_SIZE) {
          const b = new Uint8Array(44 + f.length);
          W.writeRndisPacketHeader(new DataView(b.buffer), 0, 0, f.length, 0);
          b.set(f, 44);
          g.write(g.sendPfns, idx * g.sendSectionSize, b);
        }
        cookie = g.send({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: idx, sendBufSectionSize: 44 + f.length }, true, sub.ch);
      } catch {
        continue; // the attacker's ring is full
      }
      sent.push({ sub, cookie, frame: f });
    }
    // Close mid-stream: before the host has run, with the sends still in the rings.
    const closing = act.closeMidStream === 'all' ? open : act.closeMidStream === 'some' ? open.filter((_, i) => i % 2 === 0) : [];
    for (const s of closing) await bus.close(s.ch).catch((e: unknown) => typedOnly(e, 'sub-channel close'));
    HostileGuestWorld.subTotals.closedMidStream += closing.length;
    await boundedSettle(this.lab.loop, 'sub-channel sends');
    const deliverable = this.hostUsesOurSendBuffer() && g.nic.coordinator.ready;
    const got = this.b.frames(this.b.rx.slice(rxBefore));
    for (const x of sent) {
      if (x.sub.ch.state !== 'open') continue; // closed mid-stream: the host reclaims, nothing is owed
      const st = x.sub.comps.get(x.cookie);
      check(st !== undefined, `NVSP 107 on sub-channel ${x.sub.ch.subChannelIndex} not completed`);
      if (deliverable) {
        check(st === W.NVSP_STAT_SUCCESS, `NVSP 107 on sub-channel ${x.sub.ch.subChannelIndex} completed ${st}`);
        check(got.some((y) => y.data.length === x.frame.length && y.data.every((v, i) => v === x.frame[i])), `frame sent on sub-channel ${x.sub.ch.subChannelIndex} never reached B`);
        HostileGuestWorld.subTotals.checkedDelivered++;
      }
      x.sub.comps.delete(x.cookie);
    }
    HostileGuestWorld.subTotals.sends += sent.length;
    if (act.complete) for (const s of this.subs) this.completeSub(s);
  }

  /**
   * Whether the host's send buffer is the one A writes (same pages, same section size, room for
   * sections 8–15): a hostile bring-up may have left the host on an older buffer, and then A's
   * sends carry whatever the old pages hold.
   */
  private hostUsesOurSendBuffer(): boolean {
    const g = this.a;
    const send = g.nic.coordinator.send;
    if (!send || send.sectionSize !== g.sendSectionSize || send.mapping.len !== g.sendPfns.length * PAGE_SIZE) return false;
    if (16 * send.sectionSize > send.mapping.len) return false;
    return g.sendPfns.every((pfn, i) => send.mapping.gpa(i * PAGE_SIZE) === pfn * PAGE_SIZE);
  }

  private completeSub(s: { ch: Channel; rx: { lo: number; hi: number }[] }): void {
    if (s.ch.state !== 'open') return;
    const body = new Uint8Array(8);
    W.emitNvsp({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, status: W.NVSP_STAT_SUCCESS }, new DataView(body.buffer), 0);
    for (const r of s.rx.splice(0)) s.ch.sendCompletion(r.lo, r.hi, body, 0, 8);
    s.ch.flush();
  }

  /** Closes the first `n` open sub-channels (whatever they still hold) and forgets closed ones. */
  private async subClose(n: number): Promise<void> {
    const bus = this.a.vm.guest;
    for (const s of this.subs.filter((x) => x.ch.state === 'open').slice(0, n)) await bus.close(s.ch).catch((e: unknown) => typedOnly(e, 'sub-channel close'));
    this.subs = this.subs.filter((x) => x.ch.state === 'open');
  }

  /** Pumps the loop (bounded) and lets the well-behaved guests complete everything they got. */
  async settle(where: string): Promise<void> {
    await boundedSettle(this.lab.loop, where);
    for (const g of [this.b, this.c]) if (g.rx.length > 0) g.completeRx();
    await boundedSettle(this.lab.loop, where);
  }

  /** Every section free or owned by one packet; counters balance; B and C saw nothing hostile. */
  invariants(where: string): void {
    for (const nic of this.lab.hv.allNics) {
      const c = nic.coordinator;
      const recv = c.recv;
      if (recv) {
        const bad = recv.audit();
        check(bad === null, `${nic.name} ${where}: ${bad}`);
      }
      // Transfer-page packets sent − completed = packets in flight (bursts not yet sent excluded),
      // as long as the receive buffer and the queue set stay the same.
      const qs = c.openQueues();
      let xfer = 0, done = 0, open = 0;
      for (const q of qs) {
        xfer += q.counters.get('rx_xfer_packets');
        done += q.counters.get('rx_completions');
        if (q.rx.pending > 0) open++;
      }
      const inFlight = recv ? recv.packetsInFlight - open : 0;
      const offset = xfer - done - inFlight;
      const prev = this.balances.get(nic);
      if (prev && prev.recv === recv && prev.queues === qs.length && recv) {
        check(offset === prev.offset, `${nic.name} ${where}: sent − completed − in flight moved from ${prev.offset} to ${offset}`);
      }
      this.balances.set(nic, { recv, queues: qs.length, offset });
      check(inFlight >= 0, `${nic.name} ${where}: negative packets in flight`);
    }
    for (const g of [this.b, this.c]) {
      const s = g.nic.stats();
      check(s.nvsp === 'ready' && s.rndis === 'initialized', `${g.nic.name} ${where}: bystander left ready (${s.nvsp}/${s.rndis})`);
      const n = s.counters;
      check(n['nvsp_unexpected'] === 0 && n['nvsp_bad_message'] === 0 && n['control_bad'] === 0, `${g.nic.name} ${where}: bystander NIC counted bad input`);
      check(g.ch.state === 'open', `${g.nic.name} ${where}: bystander channel ${g.ch.state}`);
    }
  }

  /** B sends C a frame and C one back: both arrive byte-identical and are completed SUCCESS. */
  async bystanders(): Promise<void> {
    for (const [from, to, dst, src] of [[this.b, this.c, MACB.C, MACB.B], [this.c, this.b, MACB.B, MACB.C]] as const) {
      const f = testFrame(dst, src, 200 + (this.seq % 900), this.seq++);
      const before = to.rx.length;
      const cookie = sendFrames(from, this.seq % 8, [f]);
      await boundedSettle(this.lab.loop, 'bystander exchange');
      const got = to.frames(to.rx.slice(before)).filter((x) => x.data.length === f.length && x.data.every((v, i) => v === f[i]));
      check(got.length === 1, `bystander frame ${from.nic.name} → ${to.nic.name} not delivered exactly once (${got.length})`);
      const comp = from.completions.get(cookie);
      check(comp !== undefined && new DataView(comp.buffer).getUint32(4, true) === W.NVSP_STAT_SUCCESS, `bystander send from ${from.nic.name} not completed SUCCESS`);
      from.completions.delete(cookie);
      to.completeRx();
      await boundedSettle(this.lab.loop, 'bystander completion');
    }
  }

  /** After the hostile sequence: A closes, reopens, brings up again and its frame reaches B. */
  async finish(): Promise<void> {
    await this.bystanders();
    await this.reopen();
    await fullBringUp(this.a);
    const f = testFrame(MACB.B, MACB.A, 300, 7);
    const before = this.b.rx.length;
    const cookie = sendFrames(this.a, 1, [f]);
    await boundedSettle(this.lab.loop, 'recovery');
    const got = this.b.frames(this.b.rx.slice(before)).filter((x) => x.data.length === f.length && x.data.every((v, i) => v === f[i]));
    check(got.length === 1, 'after the hostile sequence A restarted but its frame did not reach B');
    const comp = this.a.completions.get(cookie);
    check(comp !== undefined && new DataView(comp.buffer).getUint32(4, true) === W.NVSP_STAT_SUCCESS, 'recovery send not completed SUCCESS');
    this.b.completeRx();
    this.a.completeRx();
    await this.settle('final');
    this.invariants('final');
    for (const nic of this.lab.hv.allNics) {
      const recv = nic.coordinator.recv;
      if (recv) check(recv.sectionsInUse === 0, `${nic.name}: ${recv.sectionsInUse} receive sections still in use after every completion`);
    }
  }

  /** Closes A's sub-channels and primary channel (the host resets the NIC) and opens the primary again, empty. */
  async reopen(): Promise<void> {
    const g = this.a;
    const bus = g.vm.guest;
    await this.subClose(Infinity);
    this.subs = [];
    await bus.close(g.ch).catch((e: unknown) => typedOnly(e, 'guest close'));
    await boundedSettle(this.lab.loop, 'close');
    const offers = await bus.requestOffers();
    const offer = offers.find((o) => o.subChannelIndex === 0)!;
    g.ch = await bus.open(offer, { ringPages: 32, maxPktSize: W.NETVSC_MAX_PKT_SIZE });
    const handler = (g as unknown as { onPacket(p: unknown): void }).onPacket.bind(g);
    g.ch.onPacket = (pkt) => handler(pkt);
    g.rx.length = 0;
    g.completions.clear();
    g.ctrlPfns = [];
    this.shield(g);
    await boundedSettle(this.lab.loop, 'reopen');
  }

  private async apply(act: GuestAction): Promise<void> {
    const g = this.a;
    const ch = g.ch;
    switch (act.k) {
      case 'raw': {
        const header = 16 + 8 * act.extra;
        if (!ch.tx.beginWrite(act.type, act.flags, act.lo, act.hi, header, act.payload.length)) return;
        ch.tx.setBytes(header, Uint8Array.from(act.payload), 0, act.payload.length);
        ch.tx.commitWrite();
        ch.flush();
        return;
      }
      case 'garbageDesc': {
        if (!ch.tx.beginWrite(W.VM_PKT_DATA_INBAND, 0, 0, 0, 16, 8)) return;
        ch.tx.setU32(0, act.w0);
        ch.tx.setU32(4, act.w1);
        ch.tx.commitWrite();
        ch.flush();
        return;
      }
      case 'init':
        g.send({ type: W.NVSP_MSG_TYPE_INIT, minProtocolVer: act.min >>> 0, maxProtocolVer: act.max >>> 0 }, act.request);
        return;
      case 'ndisConfig':
        g.send({ type: W.NVSP_MSG2_TYPE_SEND_NDIS_CONFIG, mtu: act.mtu >>> 0, reserved: 0, capability: { ieee8021q: 1 } }, act.request);
        return;
      case 'ndisVer':
        g.send({ type: W.NVSP_MSG1_TYPE_SEND_NDIS_VER, ndisMajorVer: act.major >>> 0, ndisMinorVer: act.minor >>> 0 }, false);
        return;
      case 'recvBuf':
      case 'sendBuf': {
        let handle = act.handle;
        if (handle === null && act.pages > 0) {
          const pfns = g.vm.allocator.allocPages(act.pages, true);
          handle = await g.vm.guest.establishGpadl(pfns);
          if (act.k === 'recvBuf') g.recvPfns = pfns;
          else g.sendPfns = pfns;
        }
        const h = (handle ?? 0) >>> 0;
        g.send(act.k === 'recvBuf' ? { type: W.NVSP_MSG1_TYPE_SEND_RECV_BUF, gpadlHandle: h, id: W.NETVSC_RECEIVE_BUFFER_ID } : { type: W.NVSP_MSG1_TYPE_SEND_SEND_BUF, gpadlHandle: h, id: 0 });
        return;
      }
      case 'revoke':
        g.send({ type: act.which === 'recv' ? W.NVSP_MSG1_TYPE_REVOKE_RECV_BUF : W.NVSP_MSG1_TYPE_REVOKE_SEND_BUF, id: act.id & 0xffff }, false);
        return;
      case 'subchannel':
        g.send({ type: W.NVSP_MSG5_TYPE_SUBCHANNEL, completion: false, op: act.op >>> 0, numSubchannels: act.n >>> 0 });
        return;
      case 'nvspRaw': {
        const b = new Uint8Array(4 + act.body.length);
        new DataView(b.buffer).setUint32(0, act.type >>> 0, true);
        b.set(act.body, 4);
        g.sendRaw(b, act.request);
        return;
      }
      case 'oid': {
        const info = Uint8Array.from(act.info);
        const len = 28 + info.length;
        const m = new Uint8Array(len);
        const dv = new DataView(m.buffer);
        dv.setUint32(0, act.set ? W.RNDIS_MSG_SET : W.RNDIS_MSG_QUERY, true);
        dv.setUint32(4, len, true);
        dv.setUint32(8, 9, true);
        dv.setUint32(12, act.oid >>> 0, true);
        dv.setUint32(16, info.length, true);
        dv.setUint32(20, 20, true);
        m.set(info, 28);
        if (act.lenPatch !== null) dv.setUint32([4, 16, 20][act.lenPatch % 3]!, act.lenPatch >>> 0, true);
        await g.rndis(m);
        return;
      }
      case 'rndisRaw':
        await g.rndis(Uint8Array.from(act.body));
        return;
      case 'data': {
        let off = 0;
        const size = g.sendSectionSize || 6144;
        const idx = act.section >>> 0;
        for (const [i, m] of act.msgs.entries()) {
          const b = buildRndis(m, MACB.A, i);
          if (g.sendPfns.length > 0 && idx < (g.sendPfns.length * PAGE_SIZE) / size && (idx + 1) * size >= off + b.length + idx * size) {
            g.write(g.sendPfns, idx * size + off, b);
          }
          off += b.length;
        }
        g.send({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT, channelType: 0, sendBufSectionIndex: idx, sendBufSectionSize: (act.sizePatch ?? off) >>> 0 });
        return;
      }
      case 'gpa': {
        const own = g.sendPfns.length > 0 ? g.sendPfns : g.vm.allocator.allocPages(1);
        const ranges = act.ranges.map((r) => ({
          pfns: r.own ? [own[r.pfn % own.length]!] : [r.pfn >>> 0],
          offset: r.offset % (2 * PAGE_SIZE),
          count: r.count % (3 * PAGE_SIZE),
        }));
        g.sendGpaDirect(0, act.section, act.size >>> 0, ranges);
        return;
      }
      case 'comp': {
        ch.sendCompletion(act.lo >>> 0, act.hi >>> 0, Uint8Array.from(act.body), 0, act.body.length);
        ch.flush();
        return;
      }
      case 'inbound': {
        const frames = Array.from({ length: act.n }, (_, i) => testFrame(act.bcast ? MACB.bcast : MACB.A, MACB.B, 60 + 97 * i, i));
        sendFrames(this.b, act.n % 8, frames);
        return;
      }
      case 'staleComp': {
        const d = this.done[act.pick % Math.max(1, this.done.length)];
        if (!d) return;
        const body = new Uint8Array(W.NVSP_MESSAGE_SIZE);
        W.emitNvsp({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, status: act.status }, new DataView(body.buffer), 0);
        ch.sendCompletion(d.lo, d.hi, body, 0, 8);
        ch.flush();
        return;
      }
      case 'completeRx': {
        const take = g.rx.slice(0, act.n);
        for (const r of take) this.done.push({ lo: r.lo, hi: r.hi });
        if (this.done.length > 64) this.done.splice(0, this.done.length - 64); // bounded for the soak
        g.completeRx(act.n, act.status >>> 0);
        if (act.twice) {
          g.rx.unshift(...take);
          g.completeRx(take.length, act.status >>> 0);
        }
        return;
      }
      case 'subOpen':
        return this.subOpen(act);
      case 'subClose':
        return this.subClose(act.n);
      case 'close':
        await this.reopen();
        if (act.bringUp) await fullBringUp(g);
        return;
      case 'bringUp':
        await fullBringUp(g);
        return;
    }
  }
}

/** One run: a fresh world, every action with its invariants, then the recovery checks. */
export async function runHostileGuest(actions: readonly GuestAction[]): Promise<HostileGuestWorld> {
  const w = await HostileGuestWorld.create();
  for (const a of actions) await w.step(a);
  await w.finish();
  return w;
}
