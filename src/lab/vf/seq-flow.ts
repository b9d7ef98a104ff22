/**
 * One sequence-numbered flow from a netvsc device to a MAC, checked at the other end by the lab's
 * TrafficSink (lost = sent − unique, duplicated, reordered). Frames are built once and only the
 * seq field is patched per frame, so a steady flow allocates nothing.
 */
import type { NetvscDevice } from '../../guest/index.js';
import { TrafficSink } from '../traffic/sink.js';
import { PAYLOAD_HEADER_LEN, PAYLOAD_SEQ_AT, writePayload, writePayloadSeq, getU32 } from '../traffic/payload.js';

const ETH_HDR = 14;
/** IEEE local experimental ethertype: nothing else in the lab uses it. */
const ETHERTYPE = 0x88b5;
const FLOW_AT = ETH_HDR + 4;

export class SeqFlow {
  /** Frames the sender's device accepted. */
  sent = 0;
  /** Highest sequence number seen at the receiver (-1: none yet). */
  highestSeq = -1;
  readonly sink: TrafficSink;
  private readonly frame: Uint8Array;

  constructor(
    private readonly from: NetvscDevice,
    srcMac: Uint8Array,
    dstMac: Uint8Array,
    readonly flow: number,
    readonly frameLen: number,
    capacity = 1 << 22,
  ) {
    if (frameLen < ETH_HDR + PAYLOAD_HEADER_LEN) throw new RangeError(`frame of ${frameLen} B is too short for a lab payload`);
    this.sink = new TrafficSink({ flow, count: capacity });
    this.frame = new Uint8Array(frameLen);
    this.frame.set(dstMac, 0);
    this.frame.set(srcMac, 6);
    this.frame[12] = ETHERTYPE >> 8;
    this.frame[13] = ETHERTYPE & 0xff;
    writePayload(this.frame, ETH_HDR, frameLen - ETH_HDR, flow, 0);
  }

  /** Sends up to n frames (fewer when the device refuses one: it is retried next time). */
  pump(n: number): number {
    let k = 0;
    for (; k < n; k++) {
      writePayloadSeq(this.frame, ETH_HDR, this.sent);
      if (!this.from.send(this.frame, 0, this.frameLen, null, k < n - 1)) break;
      this.sent++;
    }
    this.from.flush();
    return k;
  }

  /** A frame at the receiver: taken when it belongs to this flow. */
  receive(u8: Uint8Array, off: number, len: number): boolean {
    if (len < ETH_HDR + PAYLOAD_HEADER_LEN || u8[off + 12] !== ETHERTYPE >> 8 || u8[off + 13] !== (ETHERTYPE & 0xff)) return false;
    if (getU32(u8, off + FLOW_AT) !== this.flow) return false;
    this.sink.take(u8, off + ETH_HDR, off + len, len);
    const seq = getU32(u8, off + ETH_HDR + PAYLOAD_SEQ_AT);
    if (seq > this.highestSeq) this.highestSeq = seq;
    return true;
  }

  /** Counts so far; `lost` is exact once the network is quiet. */
  result(): { readonly sent: number; readonly unique: number; readonly lost: number; readonly duplicated: number; readonly reordered: number; readonly corrupt: number } {
    const s = this.sink;
    return { sent: this.sent, unique: s.unique, lost: this.sent - s.unique, duplicated: s.duplicated, reordered: s.reordered, corrupt: s.corrupt };
  }
}
