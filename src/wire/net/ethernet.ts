/**
 * Ethernet II header with an optional 802.1Q tag (IEEE 802.1Q: TPID 0x8100, then the TCI with
 * PCP in bits 13–15, DEI bit 12, VLAN id bits 0–11).
 */
import { ETH_HLEN, ETH_P_8021Q, VLAN_ETH_HLEN } from './protocols.js';
import { NetView } from './view.js';

export class EthernetView extends NetView {
  /** 14, or 18 with a VLAN tag. */
  headerLen = ETH_HLEN;

  /** Binds to an Ethernet frame of len bytes at `at`; false (fault recorded) if it is too short. */
  tryBind(bytes: Uint8Array, at: number, len: number): boolean {
    if (!this.region(bytes, at, len, ETH_HLEN, 'Ethernet frame shorter than 14 bytes')) return false;
    if (this.u16(12) === ETH_P_8021Q) {
      if (len < VLAN_ETH_HLEN) return this.fail('TRUNCATED', '802.1Q frame shorter than 18 bytes');
      this.headerLen = VLAN_ETH_HLEN;
    } else {
      this.headerLen = ETH_HLEN;
    }
    return true;
  }

  /** tryBind() or throw WireError. */
  bind(bytes: Uint8Array, at: number, len: number): this {
    if (!this.tryBind(bytes, at, len)) this.raise();
    return this;
  }

  /** Absolute offset of the destination MAC (6 bytes). */
  get dstOffset(): number {
    return this.at;
  }

  /** Absolute offset of the source MAC (6 bytes). */
  get srcOffset(): number {
    return this.at + 6;
  }

  get hasVlan(): boolean {
    return this.headerLen === VLAN_ETH_HLEN;
  }

  /** The 802.1Q tag control information, or -1 when untagged. */
  get vlanTci(): number {
    return this.hasVlan ? this.u16(14) : -1;
  }

  /** The VLAN id (TCI bits 0–11), or -1 when untagged. */
  get vlanId(): number {
    return this.hasVlan ? this.u16(14) & 0x0fff : -1;
  }

  /** The EtherType of the payload (after the tag, if any). */
  get etherType(): number {
    return this.u16(this.headerLen - 2);
  }

  get payloadOffset(): number {
    return this.at + this.headerLen;
  }

  get payloadLen(): number {
    return this.len - this.headerLen;
  }
}

/**
 * Writes an Ethernet header (with an 802.1Q tag when vlanTci ≥ 0) at `at` and returns its length.
 * MACs are the first 6 bytes of dst and src.
 */
export function writeEthernetHeader(
  out: Uint8Array,
  at: number,
  dst: Uint8Array,
  src: Uint8Array,
  etherType: number,
  vlanTci = -1,
): number {
  for (let i = 0; i < 6; i++) {
    out[at + i] = dst[i]!;
    out[at + 6 + i] = src[i]!;
  }
  let o = at + 12;
  if (vlanTci >= 0) {
    out[o] = ETH_P_8021Q >>> 8;
    out[o + 1] = ETH_P_8021Q & 0xff;
    out[o + 2] = (vlanTci >>> 8) & 0xff;
    out[o + 3] = vlanTci & 0xff;
    o += 4;
  }
  out[o] = (etherType >>> 8) & 0xff;
  out[o + 1] = etherType & 0xff;
  return o + 2 - at;
}
