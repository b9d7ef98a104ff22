/** TCP header (RFC 9293 §3.1). The data offset is checked once; options are opaque bytes. */
import { NetView } from './view.js';

export const TCP_HLEN = 20;
const F = { srcPort: 0, dstPort: 2, seq: 4, ack: 8, dataOffset: 12, flags: 13, window: 14, checksum: 16, urgent: 18 } as const;

/** TCP flag bits in byte 13. */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export class TcpView extends NetView {
  headerLen = TCP_HLEN;

  /** Binds to a TCP segment of len bytes (header and data). */
  tryBind(bytes: Uint8Array, at: number, len: number): boolean {
    if (!this.region(bytes, at, len, TCP_HLEN, 'TCP header shorter than 20 bytes')) return false;
    const hl = (this.u8(F.dataOffset) >>> 4) * 4;
    if (hl < TCP_HLEN) return this.fail('MALFORMED', 'TCP data offset below 5');
    if (hl > len) return this.fail('TRUNCATED', 'TCP options run past the segment');
    this.headerLen = hl;
    return true;
  }

  /** tryBind() or throw WireError. */
  bind(bytes: Uint8Array, at: number, len: number): this {
    if (!this.tryBind(bytes, at, len)) this.raise();
    return this;
  }

  get srcPort(): number {
    return this.u16(F.srcPort);
  }
  get dstPort(): number {
    return this.u16(F.dstPort);
  }
  get seq(): number {
    return this.u32(F.seq);
  }
  get ack(): number {
    return this.u32(F.ack);
  }
  /** The eight flag bits CWR..FIN. */
  get flags(): number {
    return this.u8(F.flags);
  }
  get window(): number {
    return this.u16(F.window);
  }
  get checksum(): number {
    return this.u16(F.checksum);
  }
  get urgentPointer(): number {
    return this.u16(F.urgent);
  }
  get optionsOffset(): number {
    return this.at + TCP_HLEN;
  }
  get optionsLen(): number {
    return this.headerLen - TCP_HLEN;
  }
  get payloadOffset(): number {
    return this.at + this.headerLen;
  }
  get payloadLen(): number {
    return this.len - this.headerLen;
  }

  setSeq(v: number): void {
    this.set32(F.seq, v);
  }
  setFlags(v: number): void {
    this.bytes[this.at + F.flags] = v & 0xff;
  }
  setChecksum(v: number): void {
    this.set16(F.checksum, v);
  }
}

/**
 * Writes a TCP header of headerLen bytes (options, if any, zero-filled for the caller to write;
 * checksum 0) and returns headerLen.
 */
export function writeTcpHeader(
  out: Uint8Array,
  at: number,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  headerLen = TCP_HLEN,
): number {
  out[at] = srcPort >>> 8;
  out[at + 1] = srcPort & 0xff;
  out[at + 2] = dstPort >>> 8;
  out[at + 3] = dstPort & 0xff;
  for (let i = 0; i < 4; i++) {
    out[at + 4 + i] = (seq >>> (24 - 8 * i)) & 0xff;
    out[at + 8 + i] = (ack >>> (24 - 8 * i)) & 0xff;
  }
  out[at + 12] = (headerLen / 4) << 4;
  out[at + 13] = flags;
  out[at + 14] = (window >>> 8) & 0xff;
  out[at + 15] = window & 0xff;
  for (let i = 16; i < headerLen; i++) out[at + i] = 0;
  return headerLen;
}
