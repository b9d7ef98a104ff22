/** ARP for IPv4 over Ethernet (RFC 826): the only form a virtual NIC has to answer. */
import { ETH_P_IP } from './protocols.js';
import { NetView } from './view.js';

export const ARP_LEN = 28;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
const ARPHRD_ETHER = 1;

export class ArpView extends NetView {
  /** Binds to an ARP packet; anything but Ethernet/IPv4 with 6- and 4-byte addresses is UNSUPPORTED. */
  tryBind(bytes: Uint8Array, at: number, len: number): boolean {
    if (!this.region(bytes, at, len, ARP_LEN, 'ARP packet shorter than 28 bytes')) return false;
    if (this.u16(0) !== ARPHRD_ETHER || this.u16(2) !== ETH_P_IP || this.u8(4) !== 6 || this.u8(5) !== 4) {
      return this.fail('UNSUPPORTED', 'ARP is not Ethernet/IPv4');
    }
    return true;
  }

  /** tryBind() or throw WireError. */
  bind(bytes: Uint8Array, at: number, len: number): this {
    if (!this.tryBind(bytes, at, len)) this.raise();
    return this;
  }

  get op(): number {
    return this.u16(6);
  }
  /** Absolute offset of the sender hardware address (6 bytes). */
  get senderMacOffset(): number {
    return this.at + 8;
  }
  get senderIp(): number {
    return this.u32(14);
  }
  get targetMacOffset(): number {
    return this.at + 18;
  }
  get targetIp(): number {
    return this.u32(24);
  }
}

/**
 * Writes a 28-byte Ethernet/IPv4 ARP packet and returns 28. MACs are the first 6 bytes of their
 * arrays; IPs are unsigned 32-bit numbers.
 */
export function writeArp(
  out: Uint8Array,
  at: number,
  op: number,
  senderMac: Uint8Array,
  senderIp: number,
  targetMac: Uint8Array,
  targetIp: number,
): number {
  out[at] = 0;
  out[at + 1] = ARPHRD_ETHER;
  out[at + 2] = ETH_P_IP >>> 8;
  out[at + 3] = ETH_P_IP & 0xff;
  out[at + 4] = 6;
  out[at + 5] = 4;
  out[at + 6] = (op >>> 8) & 0xff;
  out[at + 7] = op & 0xff;
  for (let i = 0; i < 6; i++) {
    out[at + 8 + i] = senderMac[i]!;
    out[at + 18 + i] = targetMac[i]!;
  }
  for (let i = 0; i < 4; i++) {
    out[at + 14 + i] = (senderIp >>> (24 - 8 * i)) & 0xff;
    out[at + 24 + i] = (targetIp >>> (24 - 8 * i)) & 0xff;
  }
  return ARP_LEN;
}
