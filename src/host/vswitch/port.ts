/**
 * What the virtual switch knows of a port: a name, a MAC filter and a deliver() that takes one
 * frame. Synthetic NICs implement it now; VF and external (TAP) ports implement it later.
 */
import { ConfigError } from '../../core/index.js';
import { hexToBytes, macToString } from '../../wire/bytes.js';

/**
 * Per-frame metadata crossing the switch. One instance per sender, reused for every frame: a
 * port that keeps values must copy them. Values are the RNDIS PPI u32s (§5.5) so no re-encoding
 * happens between a guest's send and another guest's receive.
 */
export class PortFrameMeta {
  /** TX checksum PPI value the sender asked for (0 = none, §5.5 transmit form). */
  csumTx = 0;
  /** LSOv2 TX PPI value (0 = none). */
  lso = 0;
  /** 802.1Q PPI value (pri/cfi/vlan id, §5.5), valid when hasVlan. */
  vlanTci = 0;
  hasVlan = false;
  /** Receive checksum result bits to report (CSUM_RX), 0 = report nothing. */
  csumRx = 0;
  /** RSS hash for the hash-value PPI, valid when hashValid. */
  hash = 0;
  hashValid = false;
  /** With lso ≠ 0 on a frame the host already finalized: how many MSS segments it stands for. */
  lsoSegments = 0;
  /**
   * A view of exactly src[off, off + len) when the sender's path has one cached
   * (netvsp/view-cache), so a receiver can copy the frame natively with set(). Only a hint: read it
   * through viewOf(), which checks it is a view of the bytes in hand (the switch may pass others).
   */
  private view: Uint8Array | null = null;
  private viewSrc: Uint8Array | null = null;
  private viewOff = 0;

  /** Records `v`, a view of exactly src[off, off + v.length), or none (null). */
  setView(v: Uint8Array | null, src: Uint8Array, off: number): void {
    this.view = v;
    this.viewSrc = src;
    this.viewOff = off;
  }

  /** The recorded view if it is exactly bytes[off, off + len), else null. Identity checks only (no .buffer: ~35 ns). */
  viewOf(bytes: Uint8Array, off: number, len: number): Uint8Array | null {
    const v = this.view;
    return v !== null && this.viewSrc === bytes && this.viewOff === off && v.length === len ? v : null;
  }

  /** Copies the view hint from another meta (the RSC coalescer's own). */
  copyView(m: PortFrameMeta): void {
    this.view = m.view;
    this.viewSrc = m.viewSrc;
    this.viewOff = m.viewOff;
  }

  clear(): void {
    this.view = null;
    this.viewSrc = null;
    this.csumTx = 0;
    this.lso = 0;
    this.vlanTci = 0;
    this.hasVlan = false;
    this.csumRx = 0;
    this.hash = 0;
    this.hashValid = false;
    this.lsoSegments = 0;
  }
}

/** Direction of a captured frame at a switch port: the port sent it into the switch. */
export const PORT_CAPTURE_INGRESS = 0;
/** The switch delivered it to the port (after VLAN rewriting and the port's filter). */
export const PORT_CAPTURE_EGRESS = 1;

/**
 * An optional per-port observer of the frames crossing it (issue 7 capture). Called on the data
 * path with bytes and meta valid only during the call; it must copy what it keeps and must not
 * allocate. Absent (null) costs one comparison per frame.
 */
export interface PortCaptureSink {
  frame(bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta, direction: number): void;
}

/** A port on the switch. */
export interface SwitchPort {
  readonly name: string;
  /**
   * Takes one frame; bytes[off, off+len) and meta are valid only during the call. Returns false
   * when the port dropped it (counted by the port and by the switch).
   */
  deliver(bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta): boolean;
  /** The port's unicast MAC as a 48-bit number (macToNumber), for the DIRECTED filter. */
  readonly macNumber: number;
  /** NDIS_PACKET_TYPE_* bits (§5.11); 0 = receive nothing. External ports report PROMISCUOUS. */
  readonly packetFilter: number;
  /**
   * Takes a finalized TCP super-frame whole (meta.lso ≠ 0: lengths and checksums set, MSS in the
   * PPI value): a synthetic NIC whose guest enabled RSC (§5.6). Other ports get MSS segments.
   */
  readonly takesSuperFrames?: boolean;
}

export interface PortConfig {
  /**
   * 802.1Q membership (issue 5 item 7), enforced by the switch: a number = access port on that
   * VLAN (frames arrive and leave untagged; 0 or absent = the untagged network); `{ trunk }` =
   * the VLANs the port carries, tagged through the 802.1Q PPI, untagged frames on VLAN 0.
   */
  readonly vlan?: number | { readonly trunk: readonly number[] };
  /**
   * Hyper-V's MAC address spoofing setting, for a port that stands for one VM NIC: false (the
   * Hyper-V default) drops every frame whose source MAC is not the port's own (counted
   * mac_spoofing_dropped; nothing is learned from it); true lets any source through. Absent: no
   * check at all, as for an external port that carries many stations' frames.
   */
  readonly macAddressSpoofing?: boolean;
}

/** MAC bytes at bytes[off..off+6) as one exact number (48 bits fit a double). */
export function macAt(bytes: Uint8Array, off: number): number {
  return (bytes[off]! * 0x10000 + (bytes[off + 1]! << 8) + bytes[off + 2]!) * 0x1000000 + ((bytes[off + 3]! << 16) | (bytes[off + 4]! << 8) | bytes[off + 5]!);
}

/** "00:15:5d:01:02:03" (or dash/none separated) → 6 bytes; anything else is a BAD_CONFIG ConfigError. */
export function parseMac(s: string): Uint8Array {
  const hex = s.replace(/[:-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw new ConfigError('BAD_CONFIG', `not a MAC address: '${s}'`);
  return hexToBytes(hex);
}

/** 6 bytes → "00:15:5d:01:02:03". */
export function formatMac(b: Uint8Array): string {
  return macToString(b, 0);
}
