/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443) share the first 8 bytes of an echo message: type, code,
 * checksum, identifier, sequence. That is all a NIC needs to answer ping.
 */
import { NetView } from './view.js';

export const ICMP_ECHOREPLY = 0;
export const ICMP_ECHO = 8;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMP_HLEN = 8;

export class IcmpView extends NetView {
  /** Binds to an ICMP or ICMPv6 message of len bytes. */
  tryBind(bytes: Uint8Array, at: number, len: number): boolean {
    return this.region(bytes, at, len, ICMP_HLEN, 'ICMP message shorter than 8 bytes');
  }

  /** tryBind() or throw WireError. */
  bind(bytes: Uint8Array, at: number, len: number): this {
    if (!this.tryBind(bytes, at, len)) this.raise();
    return this;
  }

  get type(): number {
    return this.u8(0);
  }
  get code(): number {
    return this.u8(1);
  }
  get checksum(): number {
    return this.u16(2);
  }
  /** Echo identifier (meaningful for echo request/reply only). */
  get identifier(): number {
    return this.u16(4);
  }
  get sequence(): number {
    return this.u16(6);
  }

  setType(v: number): void {
    this.bytes[this.at] = v;
  }
  setChecksum(v: number): void {
    this.set16(2, v);
  }
}

/** Writes an 8-byte echo header (checksum 0) and returns 8. */
export function writeIcmpEcho(out: Uint8Array, at: number, type: number, identifier: number, sequence: number): number {
  out[at] = type;
  out[at + 1] = 0;
  out[at + 2] = 0;
  out[at + 3] = 0;
  out[at + 4] = (identifier >>> 8) & 0xff;
  out[at + 5] = identifier & 0xff;
  out[at + 6] = (sequence >>> 8) & 0xff;
  out[at + 7] = sequence & 0xff;
  return ICMP_HLEN;
}
