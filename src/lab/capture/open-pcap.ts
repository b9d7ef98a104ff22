/** The pcap settings every capture layer shares (guest TX/RX, switch ports). */
import { PcapWriter } from '../../io/index.js';

/** Big enough for a 64 KiB GSO or RSC super-frame (plus a re-inserted VLAN tag), which tshark reads whole. */
export const CAPTURE_SNAPLEN = 65536 + 64;
/** Records are batched here and reach the file in one write() per buffer. */
const CAPTURE_BUFFER = 1 << 20;

export function openPcap(path: string): PcapWriter {
  return new PcapWriter(path, { snapLen: CAPTURE_SNAPLEN + 4, bufferBytes: CAPTURE_BUFFER });
}
