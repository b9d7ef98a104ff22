/**
 * Guest-side capture of one NIC (inside its VM worker): guest TX = the frames the driver is
 * handed, guest RX = the frames the driver delivers, each to its own pcap file. Records go into
 * PcapWriter's preallocated buffer (one write() per buffer). A TX frame whose checksum the NIC
 * will fill (checksum PPI or LSO) is captured from a scratch copy with the checksum completed, so
 * the file shows what reaches the wire and tshark can check every checksum.
 */
import { FRAME_F_NEEDS_CSUM, type FrameMeta } from '../../core/index.js';
import type { PcapWriter } from '../../io/index.js';
import { classifyFrame, copyBytes, fillL4Checksum, FlowKey } from '../../packet/index.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../wire/index.js';
import { completePartialChecksum } from '../tap/offload-map.js';
import { CAPTURE_SNAPLEN, openPcap } from './open-pcap.js';
import { writeWithVlanTag } from './port-capture.js';

export interface NicCapturePaths {
  /** pcap of the frames the guest transmits. */
  readonly tx?: string;
  /** pcap of the frames the guest receives. */
  readonly rx?: string;
}

export class NicCapture {
  private readonly tx: PcapWriter | null;
  private readonly rx: PcapWriter | null;
  private readonly scratch: Uint8Array | null;
  private readonly scratchRx: Uint8Array | null;
  /** Bytes of the frame stageTx() copied into scratch, or -1. */
  private staged = -1;
  private readonly key = new FlowKey();

  constructor(p: NicCapturePaths) {
    this.tx = p.tx ? openPcap(p.tx) : null;
    this.rx = p.rx ? openPcap(p.rx) : null;
    this.scratch = this.tx ? new Uint8Array(CAPTURE_SNAPLEN) : null;
    this.scratchRx = this.rx ? new Uint8Array(CAPTURE_SNAPLEN + 4) : null;
  }

  /** A frame from the kernel, before the NIC takes it; `m` says whether its checksum is partial. */
  guestTx(b: Uint8Array, off: number, len: number, m: FrameMeta): void {
    const w = this.tx;
    if (w === null) return;
    if ((m.flags & FRAME_F_NEEDS_CSUM) === 0 || len > CAPTURE_SNAPLEN) {
      w.write(b, off, len);
      return;
    }
    const s = this.scratch!;
    copyBytes(b, off, s, 0, len);
    completePartialChecksum(s, 0, len, m.csumStart, m.csumOffset);
    w.write(s, 0, len);
  }

  /**
   * Copies a frame the driver is about to edit (the lab's stack path); commitTx() writes it once
   * the driver took it, so a refused frame offered again is captured once.
   */
  stageTx(b: Uint8Array, off: number, len: number, fillL4: boolean): void {
    if (this.tx === null) return;
    const s = this.scratch!;
    this.staged = Math.min(len, s.length);
    copyBytes(b, off, s, 0, this.staged);
    // A checksum the host will fill is filled here in the copy, so the file shows what reaches the wire.
    const k = this.key;
    if (fillL4 && this.staged === len && classifyFrame(s, 0, len, k) && !k.isFragment && (k.l4Proto === IPPROTO_TCP || k.l4Proto === IPPROTO_UDP)) {
      fillL4Checksum(s, k.ipOff, k.ipVersion === 6, k.l4Proto, k.l4Off, k.l4Len);
    }
  }

  commitTx(): void {
    if (this.tx === null || this.staged < 0) return;
    this.tx.write(this.scratch!, 0, this.staged);
    this.staged = -1;
  }

  /** A frame the driver delivered; `vlanTci` is its 802.1Q PPI value (0 = none), put back as a tag. */
  guestRx(b: Uint8Array, off: number, len: number, vlanTci: number): void {
    const w = this.rx;
    if (w === null) return;
    if (vlanTci === 0) w.write(b, off, len);
    else writeWithVlanTag(w, this.scratchRx!, b, off, len, vlanTci);
  }

  flush(): void {
    this.tx?.flush();
    this.rx?.flush();
  }

  close(): void {
    this.tx?.close();
    this.rx?.close();
  }
}
