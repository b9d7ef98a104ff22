/**
 * Reads a classic pcap file (either byte order, µs or ns timestamps) into records. Control path:
 * for tests and tools, so it allocates freely and checks every length.
 */
import { readFileSync } from 'node:fs';
import { WireError } from '../../core/index.js';
import { PCAP_FILE_HEADER_LEN, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, PCAP_RECORD_HEADER_LEN } from './pcap-format.js';

export interface PcapRecord {
  readonly tsSec: number;
  /** Sub-second part in microseconds (converted from ns files). */
  readonly tsUsec: number;
  readonly origLen: number;
  readonly data: Uint8Array;
}

export interface PcapFile {
  readonly linkType: number;
  readonly snapLen: number;
  readonly records: readonly PcapRecord[];
}

export function parsePcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < PCAP_FILE_HEADER_LEN) throw new WireError('TRUNCATED', `pcap of ${bytes.length} B has no file header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLe = dv.getUint32(0, true);
  const magicBe = dv.getUint32(0, false);
  const le = magicLe === PCAP_MAGIC_USEC || magicLe === PCAP_MAGIC_NSEC;
  if (!le && magicBe !== PCAP_MAGIC_USEC && magicBe !== PCAP_MAGIC_NSEC) throw new WireError('MALFORMED', `not a pcap file (magic 0x${magicLe.toString(16)})`);
  const nsec = (le ? magicLe : magicBe) === PCAP_MAGIC_NSEC;
  const snapLen = dv.getUint32(16, le);
  const linkType = dv.getUint32(20, le);
  const records: PcapRecord[] = [];
  let at = PCAP_FILE_HEADER_LEN;
  while (at < bytes.length) {
    if (at + PCAP_RECORD_HEADER_LEN > bytes.length) throw new WireError('TRUNCATED', `pcap record header at ${at} runs past the file`);
    const capLen = dv.getUint32(at + 8, le);
    const origLen = dv.getUint32(at + 12, le);
    if (at + PCAP_RECORD_HEADER_LEN + capLen > bytes.length) throw new WireError('TRUNCATED', `pcap record at ${at} claims ${capLen} B past the file`);
    if (capLen > origLen) throw new WireError('MALFORMED', `pcap record at ${at}: captured ${capLen} > original ${origLen}`);
    const frac = dv.getUint32(at + 4, le);
    records.push({
      tsSec: dv.getUint32(at, le),
      tsUsec: nsec ? Math.floor(frac / 1000) : frac,
      origLen,
      data: bytes.slice(at + PCAP_RECORD_HEADER_LEN, at + PCAP_RECORD_HEADER_LEN + capLen),
    });
    at += PCAP_RECORD_HEADER_LEN + capLen;
  }
  return { linkType, snapLen, records };
}

export function readPcap(path: string): PcapFile {
  return parsePcap(readFileSync(path));
}
