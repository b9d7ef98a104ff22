/** UDP header (RFC 768). The length field is checked against the bytes that carry it. */
import { NetView } from './view.js';

export const UDP_HLEN = 8;

export class UdpView extends NetView {
  /** Binds to a UDP datagram within len bytes. */
  tryBind(bytes: Uint8Array, at: number, len: number): boolean {
    if (!this.region(bytes, at, len, UDP_HLEN, 'UDP header shorter than 8 bytes')) return false;
    const l = this.u16(4);
    if (l < UDP_HLEN) return this.fail('MALFORMED', 'UDP length below 8');
    if (l > len) return this.fail('TRUNCATED', 'UDP length runs past the packet');
    return true;
  }

  /** tryBind() or throw WireError. */
  bind(bytes: Uint8Array, at: number, len: number): this {
    if (!this.tryBind(bytes, at, len)) this.raise();
    return this;
  }

  get srcPort(): number {
    return this.u16(0);
  }
  get dstPort(): number {
    return this.u16(2);
  }
  /** The length field: header plus data. */
  get length(): number {
    return this.u16(4);
  }
  get checksum(): number {
    return this.u16(6);
  }
  get payloadOffset(): number {
    return this.at + UDP_HLEN;
  }
  get payloadLen(): number {
    return this.length - UDP_HLEN;
  }
}

/** Writes an 8-byte UDP header (checksum 0) and returns 8. `length` counts header and data. */
export function writeUdpHeader(out: Uint8Array, at: number, srcPort: number, dstPort: number, length: number): number {
  out[at] = srcPort >>> 8;
  out[at + 1] = srcPort & 0xff;
  out[at + 2] = dstPort >>> 8;
  out[at + 3] = dstPort & 0xff;
  out[at + 4] = (length >>> 8) & 0xff;
  out[at + 5] = length & 0xff;
  out[at + 6] = 0;
  out[at + 7] = 0;
  return UDP_HLEN;
}
