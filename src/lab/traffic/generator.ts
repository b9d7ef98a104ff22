/**
 * A traffic generator that runs inside a VM worker: sequence-numbered UDP, TCP or ICMP echo
 * over IPv4 or IPv6, optionally 802.1Q-tagged, as LSO super-frames or IP fragments, cycling
 * through a list of frame sizes, at a given rate or as fast as the NIC takes them. Each size's
 * send unit is built once (send-unit.ts); per send only seq fields and checksums are patched, so
 * nothing allocates per frame.
 */
import { XMIT_BUSY, XMIT_IN_PLACE } from '../../guest/index.js';
import { fillIpv4HeaderChecksum, updateChecksum16, updateChecksum32 } from '../../packet/index.js';
import type { Pollable } from '../../vmbus/index.js';
import { writePayloadSeq } from './payload.js';
import { buildSendUnit, datagramId, type SendUnit } from './send-unit.js';
import type { GeneratorSpec } from './spec.js';
import { GEN_SLOT_BYTES, GEN_TOKEN_BASE, type GenTxSlots } from './tx-slots.js';

/** The request the stack hands the driver's xmit(). */
export interface StackRequest {
  readonly csum: boolean;
  readonly mss: number;
}

/** The transmit side of a NIC as the apps see it (the lab's adapter over the guest driver). */
export interface FrameTransmitter {
  /** Queues one frame (copied before return); false = no room now, the frame was not taken. */
  transmit(u8: Uint8Array, off: number, len: number, more: boolean): boolean;
  /** The stack's path (checksum/LSO/VLAN as PPIs, TX hash); edits the frame; false = not taken. */
  xmit(u8: Uint8Array, off: number, len: number, req: StackRequest, more: boolean): boolean;
  /** Sends what a run of `more` frames left batched. */
  flushTx(): void;
}

/** Contract A through the lab's driver seam: the stack's transmit of a frame in this VM's guest memory. */
export interface InPlaceTransmitter {
  /** XMIT_BUSY / XMIT_COPIED / XMIT_IN_PLACE as NetvscDevice.xmitInPlace. */
  xmitInPlace(off: number, len: number, req: StackRequest, more: boolean, token: number): number;
}

/** Guest-memory copies of each LSO size's super-frame a generator sends in place (in flight at once). */
export const IN_PLACE_BUFS = 24;

export interface GeneratorReport {
  readonly flow: number;
  /** Payload records sent (the sink's sequence numbers): one per send, k per LSO super-frame. */
  readonly sent: number;
  /** Sends: frames, super-frames or whole datagrams. */
  readonly sends: number;
  /** Frames handed to the NIC (fragments counted one by one). */
  readonly frames: number;
  readonly bytes: number;
  /** The NIC said no (the queue was full); the frame was retried, not lost. */
  readonly blocked: number;
  /** LSO super-frames sent in place from guest memory (Contract A), the rest were copied by xmit(). */
  readonly inPlace: number;
  readonly done: boolean;
}

const CSUM_REQ: StackRequest = { csum: true, mss: 0 };
const NO_CSUM_REQ: StackRequest = { csum: false, mss: 0 };

export class TrafficGenerator implements Pollable {
  sent = 0;
  sends = 0;
  frames = 0;
  bytes = 0;
  blocked = 0;
  inPlace = 0;
  private readonly units: SendUnit[];
  // In place (useInPlace): per unit IN_PLACE_BUFS slots of guest memory (-1 = none), their template ids.
  private tx: InPlaceTransmitter | null = null;
  private slots: GenTxSlots | null = null;
  private unitSlots = new Int32Array(0);
  private unitTemplate = new Int32Array(0);
  /** The slot the current send is built in, or -1 (the unit's own frame, copied by xmit()). */
  private cur = -1;
  private stopped = false;
  private readonly lsoReqs: StackRequest[];
  private readonly batch: number;
  /** TCP sequence number of the next send's first payload byte. */
  private tcpSeq = 0;
  /** The next fragment of the current send to hand over (>0 only mid-datagram). */
  private fragNext = 0;
  /**
   * Set when the NIC refused a frame: the next poll hands over nothing, so another generator on
   * the same queue gets the room that frees first. Without it the generator polled first after
   * every wake (a bulk stream behind schedule) took all of it and a second flow never sent.
   */
  private yieldTurn = false;
  private startedAt = -1;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly spec: GeneratorSpec,
    private readonly nic: FrameTransmitter,
    /** Rung by the pacing timer so a sleeping loop polls again. */
    private readonly wake: () => void,
  ) {
    this.batch = spec.batch;
    this.units = spec.sizes.map((size) => buildSendUnit(spec, size));
    this.lsoReqs = this.units.map((u) => ({ csum: true, mss: u.mss }));
  }

  get done(): boolean {
    return this.sends >= this.spec.count;
  }

  poll(): number {
    if (this.done) return 0;
    if (this.yieldTurn) {
      this.yieldTurn = false;
      return 0;
    }
    const now = performance.now();
    if (this.startedAt < 0) this.startedAt = now;
    let budget = Math.min(this.batch, this.spec.count - this.sends);
    if (this.spec.pps > 0) budget = Math.min(budget, Math.floor(((now - this.startedAt) * this.spec.pps) / 1000) - this.sends);
    let n = 0;
    const units = this.units;
    while (n < budget) {
      const i = this.sends % units.length;
      const u = units[i]!;
      if (this.fragNext === 0) {
        this.cur = this.pick(i);
        this.patch(u, this.cur < 0 ? u.frames[0]! : this.slots!.views[this.cur]!);
      }
      if (!this.put(u, i, n + 1 < budget)) {
        this.blocked++;
        this.yieldTurn = true;
        break;
      }
      this.sent += u.records;
      this.sends++;
      this.tcpSeq = (this.tcpSeq + u.tcpBytes) >>> 0;
      n++;
    }
    if (n > 0 || this.fragNext > 0) this.nic.flushTx();
    return n;
  }

  /**
   * Sends LSO super-frames in place from now on (stack path only): each LSO size gets up to
   * IN_PLACE_BUFS slots of `slots`, a slot reused only after its onTxDone (GenTxSlots.done). Sizes
   * that get none, and sends that find every slot in flight, are copied by xmit() as before.
   */
  useInPlace(tx: InPlaceTransmitter, slots: GenTxSlots): void {
    if (!this.spec.stack || this.slots !== null || this.stopped) return;
    const n = this.units.length;
    this.unitSlots = new Int32Array(n * IN_PLACE_BUFS).fill(-1);
    this.unitTemplate = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const u = this.units[i]!;
      if (u.mss === 0 || u.frames.length !== 1 || u.lens[0]! > GEN_SLOT_BYTES) continue;
      const got = slots.claim(IN_PLACE_BUFS);
      this.unitSlots.set(got, i * IN_PLACE_BUFS);
      this.unitTemplate[i] = slots.newTemplateId();
    }
    this.tx = tx;
    this.slots = slots;
  }

  /** A free slot of unit i holding its frame (written there on first use), or -1. */
  private pick(i: number): number {
    const sl = this.slots;
    if (sl === null) return -1;
    const u = this.units[i]!;
    for (let b = 0; b < IN_PLACE_BUFS; b++) {
      const s = this.unitSlots[i * IN_PLACE_BUFS + b]!;
      if (s < 0) return -1;
      if (sl.busy[s] !== 0) continue;
      if (sl.template[s] !== this.unitTemplate[i]) {
        sl.views[s]!.set(u.frames[0]!.subarray(0, u.lens[0]!));
        sl.template[s] = this.unitTemplate[i]!;
        sl.popped[s] = 0;
      } else if (sl.popped[s] !== 0) {
        restoreTag(sl.views[s]!, u.tci);
        sl.popped[s] = 0;
      }
      return s;
    }
    return -1;
  }

  /** Writes this send's seq numbers, TCP sequence, IP id and the checksums covering them into f (frame 0). */
  private patch(u: SendUnit, f: Uint8Array): void {
    const seq = this.sent;
    let c = u.csum0;
    for (let r = 0; r < u.records; r++) {
      writePayloadSeq(f, u.seqAt[r]! - 8, seq + r);
      c = updateChecksum32(c, 0, seq + r);
    }
    if (u.tcpSeqAt >= 0) {
      const t = this.tcpSeq;
      f[u.tcpSeqAt] = t >>> 24;
      f[u.tcpSeqAt + 1] = (t >>> 16) & 0xff;
      f[u.tcpSeqAt + 2] = (t >>> 8) & 0xff;
      f[u.tcpSeqAt + 3] = t & 0xff;
      c = updateChecksum32(c, 0, t);
    }
    if (u.icmpSeqAt >= 0) {
      f[u.icmpSeqAt] = (seq >>> 8) & 0xff;
      f[u.icmpSeqAt + 1] = seq & 0xff;
      c = updateChecksum16(c, 0, seq & 0xffff);
    }
    if (u.csum === 'generator') {
      if (c === 0 && this.spec.protocol === 'udp') c = 0xffff; // UDP sends a computed zero as all ones (RFC 768)
      f[u.csumAt] = c >>> 8;
      f[u.csumAt + 1] = c & 0xff;
    }
    if (u.idAt.length > 0) {
      const id = datagramId(this.spec.flow, seq);
      const v6 = this.spec.family === 'ipv6';
      for (let k = 0; k < u.frames.length; k++) {
        const g = u.frames[k]!;
        const at = u.idAt[k]!;
        if (v6) {
          g[at] = id >>> 24;
          g[at + 1] = (id >>> 16) & 0xff;
          g[at + 2] = (id >>> 8) & 0xff;
          g[at + 3] = id & 0xff;
        } else {
          g[at] = (id >>> 8) & 0xff;
          g[at + 1] = id & 0xff;
        }
      }
      for (let k = 0; k < u.ipv4At.length; k++) fillIpv4HeaderChecksum(u.frames[k]!, u.ipv4At[k]!);
    }
    if (u.mss > 0) {
      // xmit() zeroes the IP length of a super-frame (the host fills each segment's): restore it.
      f[u.lenAt] = u.lenValue >>> 8;
      f[u.lenAt + 1] = u.lenValue & 0xff;
    }
  }

  /** Hands the send's frames (from fragNext on) to the NIC; true when all went. */
  private put(u: SendUnit, i: number, more: boolean): boolean {
    const s = this.spec;
    for (let k = this.fragNext; k < u.frames.length; k++) {
      const f = u.frames[k]!;
      const len = u.lens[k]!;
      const last = k === u.frames.length - 1;
      let ok: boolean;
      const c = this.cur;
      if (c >= 0) {
        // In place: the slot stays the host's until GenTxSlots.done; a popped tag is put back at reuse.
        const sl = this.slots!;
        const r = this.tx!.xmitInPlace(sl.off[c]!, len, this.lsoReqs[i]!, more || !last, GEN_TOKEN_BASE + c);
        ok = r !== XMIT_BUSY;
        if (r === XMIT_IN_PLACE) {
          sl.busy[c] = 1;
          sl.popped[c] = u.tci >= 0 ? 1 : 0;
          this.inPlace++;
        } else if (ok && u.tci >= 0) restoreTag(sl.views[c]!, u.tci);
      } else if (!s.stack) ok = this.nic.transmit(f, 0, len, more || !last);
      else ok = this.nic.xmit(f, 0, len, u.mss > 0 ? this.lsoReqs[i]! : u.csum === 'stack' ? CSUM_REQ : NO_CSUM_REQ, more || !last);
      if (!ok) {
        this.fragNext = k;
        return false;
      }
      if (u.tci >= 0 && c < 0) restoreTag(f, u.tci);
      this.frames++;
      this.bytes += len;
    }
    this.fragNext = 0;
    return true;
  }

  idle(): number {
    // A paced generator with nothing due would sleep forever on the doorbell: ring it when due.
    if (!this.done && this.spec.pps > 0 && this.timer === null) {
      const dueMs = Math.max(1, Math.ceil(((this.sends + 1) * 1000) / this.spec.pps - (performance.now() - this.startedAt)));
      this.timer = setTimeout(() => {
        this.timer = null;
        this.wake();
      }, dueMs);
    }
    return 0;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Slots still in flight stay busy in GenTxSlots until their onTxDone; the next owner skips them.
    this.slots?.release(this.unitSlots);
    this.slots = null;
    this.tx = null;
  }

  report(): GeneratorReport {
    return { flow: this.spec.flow, sent: this.sent, sends: this.sends, frames: this.frames, bytes: this.bytes, blocked: this.blocked, inPlace: this.inPlace, done: this.done };
  }
}

/**
 * xmit() moved the MAC addresses over the 802.1Q tag it turned into the VLAN PPI; put the tag
 * back so the template is whole for the next send.
 */
function restoreTag(f: Uint8Array, tci: number): void {
  f.copyWithin(0, 4, 16);
  f[12] = 0x81;
  f[13] = 0x00;
  f[14] = tci >>> 8;
  f[15] = tci & 0xff;
}
