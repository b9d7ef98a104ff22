/**
 * A traffic generator that runs inside a VM worker: sequence-numbered UDP or TCP frames over IPv4
 * built with packet's frame builders, cycling through a list of frame sizes, at a given rate or
 * as fast as the NIC takes them. Each size's frame is built once; per frame only the seq field
 * and (incrementally, RFC 1624) the L4 checksum change, so nothing allocates per frame.
 */
import { buildTcp4Frame, buildUdp4Frame, FrameSpec, updateChecksum32 } from '../../packet/index.js';
import type { Pollable } from '../../vmbus/index.js';
import { writePayload, writePayloadSeq } from './payload.js';
import type { GeneratorSpec } from './spec.js';
import { frameHeaderLen, ipv4ToNumber, macBytes } from './spec.js';

/** The transmit side of a NIC as the apps see it (the lab's adapter over the guest driver). */
export interface FrameTransmitter {
  /** Queues one frame (copied before return); false = no room now, the frame was not taken. */
  transmit(u8: Uint8Array, off: number, len: number, more: boolean): boolean;
  /** Sends what a run of `more` frames left batched. */
  flushTx(): void;
}

export interface GeneratorReport {
  readonly flow: number;
  readonly sent: number;
  readonly bytes: number;
  /** transmit() said no (the queue was full); the frame was retried, not lost. */
  readonly blocked: number;
  readonly done: boolean;
}

interface Template {
  readonly frame: Uint8Array;
  readonly len: number;
  readonly payloadAt: number;
  readonly csumAt: number;
  /** L4 checksum with seq 0. */
  readonly csum0: number;
  readonly udp: boolean;
}

export class TrafficGenerator implements Pollable {
  sent = 0;
  bytes = 0;
  blocked = 0;
  private readonly templates: Template[];
  private readonly batch: number;
  private startedAt = -1;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly spec: GeneratorSpec,
    private readonly nic: FrameTransmitter,
    /** Rung by the pacing timer so a sleeping loop polls again. */
    private readonly wake: () => void,
  ) {
    this.batch = spec.batch;
    const s = new FrameSpec();
    s.dstMac.set(macBytes(spec.dstMac));
    s.srcMac.set(macBytes(spec.srcMac));
    s.src4 = ipv4ToNumber(spec.src);
    s.dst4 = ipv4ToNumber(spec.dst);
    s.srcPort = spec.srcPort;
    s.dstPort = spec.dstPort;
    const udp = spec.protocol === 'udp';
    const hdr = frameHeaderLen(spec.protocol);
    this.templates = spec.sizes.map((size) => {
      const payloadLen = size - hdr;
      const payload = new Uint8Array(payloadLen);
      writePayload(payload, 0, payloadLen, spec.flow, 0);
      const frame = new Uint8Array(size);
      const len = udp ? buildUdp4Frame(frame, 0, s, payload, 0, payloadLen) : buildTcp4Frame(frame, 0, s, payload, 0, payloadLen);
      const l4 = 14 + 20;
      const csumAt = l4 + (udp ? 6 : 16);
      return { frame, len, payloadAt: hdr, csumAt, csum0: (frame[csumAt]! << 8) | frame[csumAt + 1]!, udp };
    });
  }

  get done(): boolean {
    return this.sent >= this.spec.count;
  }

  poll(): number {
    if (this.done) return 0;
    const now = performance.now();
    if (this.startedAt < 0) this.startedAt = now;
    let budget = Math.min(this.batch, this.spec.count - this.sent);
    if (this.spec.pps > 0) budget = Math.min(budget, Math.floor(((now - this.startedAt) * this.spec.pps) / 1000) - this.sent);
    let n = 0;
    const templates = this.templates;
    while (n < budget) {
      const seq = this.sent;
      const t = templates[seq % templates.length]!;
      writePayloadSeq(t.frame, t.payloadAt, seq);
      let c = updateChecksum32(t.csum0, 0, seq);
      if (c === 0 && t.udp) c = 0xffff; // UDP sends a computed zero as all ones (RFC 768)
      t.frame[t.csumAt] = c >>> 8;
      t.frame[t.csumAt + 1] = c & 0xff;
      if (!this.nic.transmit(t.frame, 0, t.len, n + 1 < budget)) {
        this.blocked++;
        break;
      }
      this.sent++;
      this.bytes += t.len;
      n++;
    }
    if (n > 0) this.nic.flushTx();
    return n;
  }

  idle(): number {
    // A paced generator with nothing due would sleep forever on the doorbell: ring it when due.
    if (!this.done && this.spec.pps > 0 && this.timer === null) {
      const dueMs = Math.max(1, Math.ceil(((this.sent + 1) * 1000) / this.spec.pps - (performance.now() - this.startedAt)));
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
    return { flow: this.spec.flow, sent: this.sent, bytes: this.bytes, blocked: this.blocked, done: this.done };
  }
}

