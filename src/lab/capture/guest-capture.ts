/**
 * Guest-side capture of one NIC (inside its VM worker): guest TX = the frames the driver is
 * handed, guest RX = the frames the driver delivers, each to its own pcap file. Records go into
 * PcapWriter's preallocated buffer (one write() per buffer). A TX frame whose checksum the NIC
 * will fill (checksum PPI or LSO) is captured from a scratch copy with the checksum completed, so
 * the file shows what reaches the wire and tshark can check every checksum.
 */
import { FRAME_F_NEEDS_CSUM, type FrameMeta } from '../../core/index.js';
import { PcapWriter } from '../../io/index.js';
import { copyBytes } from '../../packet/index.js';
import { completePartialChecksum } from './offload-map.js';

/** Big enough for a 64 KiB GSO or RSC super-frame, which tshark reads whole. */
export const CAPTURE_SNAPLEN = 65536 + 64;
const CAPTURE_BUFFER = 1 << 20;

export interface NicCapturePaths {
  /** pcap of the frames the guest transmits. */
  readonly tx?: string;
  /** pcap of the frames the guest receives. */
  readonly rx?: string;
}

export function openPcap(path: string): PcapWriter {
  return new PcapWriter(path, { snapLen: CAPTURE_SNAPLEN, bufferBytes: CAPTURE_BUFFER });
}

export class NicCapture {
  private readonly tx: PcapWriter | null;
  private readonly rx: PcapWriter | null;
  private readonly scratch: Uint8Array | null;

  constructor(p: NicCapturePaths) {
    this.tx = p.tx ? openPcap(p.tx) : null;
    this.rx = p.rx ? openPcap(p.rx) : null;
    this.scratch = this.tx ? new Uint8Array(CAPTURE_SNAPLEN) : null;
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

  guestRx(b: Uint8Array, off: number, len: number): void {
    this.rx?.write(b, off, len);
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
