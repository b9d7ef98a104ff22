/**
 * A traffic generator that runs inside a VM worker: sequence-numbered UDP, TCP or ICMP echo
 * over IPv4 or IPv6, optionally 802.1Q-tagged, as LSO super-frames or IP fragments, cycling
 * through a list of frame sizes, at a given rate or as fast as the NIC takes them. Each size's
 * send unit is built once (send-unit.ts); per send only seq fields and checksums are patched, so
 * nothing allocates per frame.
 */
import { fillIpv4HeaderChecksum, updateChecksum16, updateChecksum32 } from '../../packet/index.js';
import type { Pollable } from '../../vmbus/index.js';
import { writePayloadSeq } from './payload.js';
import { buildSendUnit, datagramId, type SendUnit } from './send-unit.js';
import type { GeneratorSpec } from './spec.js';

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
  private readonly units: SendUnit[];
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
      if (this.fragNext === 0) this.patch(u);
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

  /** Writes this send's seq numbers, TCP sequence, IP id and the checksums covering them. */
  private patch(u: SendUnit): void {
    const f = u.frames[0]!;
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
      if (!s.stack) ok = this.nic.transmit(f, 0, len, more || !last);
      else ok = this.nic.xmit(f, 0, len, u.mss > 0 ? this.lsoReqs[i]! : u.csum === 'stack' ? CSUM_REQ : NO_CSUM_REQ, more || !last);
      if (!ok) {
        this.fragNext = k;
        return false;
      }
      if (u.tci >= 0) restoreTag(f, u.tci);
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  report(): GeneratorReport {
    return { flow: this.spec.flow, sent: this.sent, sends: this.sends, frames: this.frames, bytes: this.bytes, blocked: this.blocked, done: this.done };
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
