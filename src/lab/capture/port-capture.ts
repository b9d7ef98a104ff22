/**
 * Capture at one switch port, in the host worker (issue 7 item 3): the frames the port sends into
 * the switch (ingress) and the frames the switch delivers to it (egress), each to its own pcap
 * file. A VLAN the frame carries in the 802.1Q PPI (§5.5) is put back into the captured copy as
 * an 802.1Q tag, so tcpdump and tshark show it as it would be on a wire. No allocation per frame:
 * tagged frames are rebuilt in one preallocated scratch buffer.
 */
import { PORT_CAPTURE_INGRESS, type PortCaptureSink, type PortFrameMeta } from '../../host/index.js';
import { copyBytes } from '../../packet/index.js';
import { vlanId, vlanPpiToTci } from '../../wire/index.js';
import type { PcapWriter } from '../../io/index.js';
import { CAPTURE_SNAPLEN, openPcap } from './open-pcap.js';

/** Where one port's captures go (structured-cloneable: it crosses to the host worker). */
export interface PortCapturePaths {
  readonly ingress?: string;
  readonly egress?: string;
}

const TAG_LEN = 4;
const TPID_8021Q = 0x8100;

/**
 * Writes bytes[off, off+len) to `w`, with an 802.1Q tag carrying `tci` (the PPI value: pri bits
 * 0–2, CFI bit 3, VLAN id bits 4–15) inserted after the MAC addresses; `scratch` holds the copy.
 */
export function writeWithVlanTag(w: PcapWriter, scratch: Uint8Array, bytes: Uint8Array, off: number, len: number, tci: number): void {
  const n = Math.min(len, scratch.length - TAG_LEN);
  if (len < 14 || vlanId(tci) === 0) {
    w.write(bytes, off, len);
    return;
  }
  copyBytes(bytes, off, scratch, 0, 12);
  const wireTci = vlanPpiToTci(tci); // priority (3 bits) · DEI (1) · VLAN id (12), big-endian on the wire
  scratch[12] = TPID_8021Q >> 8;
  scratch[13] = TPID_8021Q & 0xff;
  scratch[14] = wireTci >> 8;
  scratch[15] = wireTci & 0xff;
  copyBytes(bytes, off + 12, scratch, 16, n - 12);
  w.write(scratch, 0, n + TAG_LEN);
}

export class PortCapture implements PortCaptureSink {
  private readonly ingress: PcapWriter | null;
  private readonly egress: PcapWriter | null;
  private readonly scratch = new Uint8Array(CAPTURE_SNAPLEN + TAG_LEN);

  constructor(p: PortCapturePaths) {
    this.ingress = p.ingress ? openPcap(p.ingress) : null;
    this.egress = p.egress ? openPcap(p.egress) : null;
  }

  frame(bytes: Uint8Array, off: number, len: number, meta: PortFrameMeta, direction: number): void {
    const w = direction === PORT_CAPTURE_INGRESS ? this.ingress : this.egress;
    if (w === null) return;
    if (meta.hasVlan) writeWithVlanTag(w, this.scratch, bytes, off, len, meta.vlanTci);
    else w.write(bytes, off, len);
  }

  /** Frames written so far per direction. */
  counts(): { ingress: number; egress: number } {
    return { ingress: this.ingress?.frames ?? 0, egress: this.egress?.frames ?? 0 };
  }

  flush(): void {
    this.ingress?.flush();
    this.egress?.flush();
  }

  close(): void {
    this.ingress?.close();
    this.egress?.close();
  }
}
