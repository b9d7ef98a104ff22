// Sequence-numbered packet streams over a Channel, for the two-worker test and the ring bench.
import { type Channel, type Pollable, RingWriter, type VmbusPacket } from '../../src/vmbus/index.js';

/** Writes `total` in-band packets whose first u32 is the sequence number; waits on pending_send_sz when full. */
export class SeqSender implements Pollable {
  private sent = 0;
  private blocked = false;
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  private readonly need: number;

  constructor(
    private readonly ch: Channel,
    private readonly total: number,
    private readonly payloadLen: number,
    private readonly batch = 256,
  ) {
    this.buf = new Uint8Array(Math.max(8, payloadLen));
    this.dv = new DataView(this.buf.buffer);
    this.need = RingWriter.packetBytes(16, payloadLen);
  }

  get done(): boolean {
    return this.sent >= this.total;
  }

  poll(): number {
    if (this.sent >= this.total || this.ch.state !== 'open') return 0;
    let n = 0;
    while (n < this.batch && this.sent < this.total) {
      this.dv.setUint32(0, this.sent, true);
      this.buf[this.payloadLen - 1] = this.sent & 0xff;
      if (this.ch.sendInband(this.sent, 0, this.buf, 0, this.payloadLen)) {
        this.sent++;
        n++;
        continue;
      }
      // Full: publish what we have, then ask the reader to signal when there is room (§2.2).
      this.ch.flush();
      if (!this.ch.waitForSpace(this.need)) {
        this.blocked = true;
        break;
      }
    }
    if (this.blocked && n > 0) {
      this.ch.tx.clearPendingSend();
      this.blocked = false;
    }
    this.ch.flush();
    return n;
  }

  idle(): number {
    return 0;
  }
}

/** Checks that packets arrive in sequence with the right length and last byte. */
export class SeqChecker {
  received = 0;
  errors = 0;
  firstAt = 0;
  lastAt = 0;

  constructor(
    private readonly payloadLen: number,
    private readonly total: number,
    private readonly onDone: () => void,
  ) {}

  readonly onPacket = (pkt: VmbusPacket): void => {
    const seq = pkt.dv.getUint32(pkt.payloadOffset, true);
    if (seq !== this.received || pkt.transIdLo !== seq || pkt.buf[pkt.payloadOffset + this.payloadLen - 1] !== (seq & 0xff)) this.errors++;
    if (this.received === 0) this.firstAt = performance.now();
    this.received++;
    if (this.received === this.total) {
      this.lastAt = performance.now();
      this.onDone();
    }
  };
}
