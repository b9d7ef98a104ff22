/**
 * Writes Ethernet frames to a classic pcap file. Frames are appended to one preallocated buffer
 * and written to the file in batches (one write per `bufferBytes`), so capture costs a copy per
 * frame and no allocation. A file-size limit turns further frames into counted drops.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ConfigError } from '../../core/index.js';
import { copyBytes } from '../../packet/index.js';
import { LINKTYPE_ETHERNET, PCAP_FILE_HEADER_LEN, PCAP_MAGIC_USEC, PCAP_RECORD_HEADER_LEN, PCAP_VERSION_MAJOR, PCAP_VERSION_MINOR } from './pcap-format.js';

export interface PcapWriterOptions {
  /** Bytes kept of each frame (the pcap snaplen); default 65535. */
  readonly snapLen?: number;
  /** Batch buffer size; default 1 MiB. Must hold one record of snapLen. */
  readonly bufferBytes?: number;
  /** Stop writing (and count drops) once the file would exceed this; default unlimited. */
  readonly maxFileBytes?: number;
}

/** Microseconds since the Unix epoch, from the monotonic clock anchored at process start. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export class PcapWriter {
  readonly snapLen: number;
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  private readonly maxFileBytes: number;
  private fd: number;
  private used = 0;
  private fileBytes = 0;
  /** Frames written (or buffered). */
  frames = 0;
  /** Frames refused because of maxFileBytes. */
  dropped = 0;

  constructor(
    readonly path: string,
    opts: PcapWriterOptions = {},
  ) {
    this.snapLen = opts.snapLen ?? 65535;
    const bufferBytes = opts.bufferBytes ?? 1 << 20;
    if (this.snapLen < 64 || bufferBytes < PCAP_RECORD_HEADER_LEN + this.snapLen) {
      throw new ConfigError('BAD_CONFIG', `pcap snapLen ${this.snapLen} must be ≥ 64 and fit bufferBytes ${bufferBytes}`);
    }
    this.maxFileBytes = opts.maxFileBytes ?? Number.POSITIVE_INFINITY;
    this.buf = new Uint8Array(bufferBytes);
    this.dv = new DataView(this.buf.buffer);
    this.fd = openSync(path, 'w');
    this.dv.setUint32(0, PCAP_MAGIC_USEC, true);
    this.dv.setUint16(4, PCAP_VERSION_MAJOR, true);
    this.dv.setUint16(6, PCAP_VERSION_MINOR, true);
    this.dv.setInt32(8, 0, true); // thiszone: timestamps are UTC
    this.dv.setUint32(12, 0, true); // sigfigs
    this.dv.setUint32(16, this.snapLen, true);
    this.dv.setUint32(20, LINKTYPE_ETHERNET, true);
    this.used = PCAP_FILE_HEADER_LEN;
    this.fileBytes = PCAP_FILE_HEADER_LEN;
  }

  /** Appends bytes[off, off+len) with a timestamp (µs since the epoch; default now). False if dropped. */
  write(bytes: Uint8Array, off: number, len: number, tsMicros: number = nowMicros()): boolean {
    const capLen = len < this.snapLen ? len : this.snapLen;
    const recLen = PCAP_RECORD_HEADER_LEN + capLen;
    if (this.fd < 0 || this.fileBytes + recLen > this.maxFileBytes) {
      this.dropped++;
      return false;
    }
    if (this.used + recLen > this.buf.length) this.flush();
    const sec = Math.floor(tsMicros / 1e6);
    const at = this.used;
    this.dv.setUint32(at, sec, true);
    this.dv.setUint32(at + 4, tsMicros - sec * 1e6, true);
    this.dv.setUint32(at + 8, capLen, true);
    this.dv.setUint32(at + 12, len, true);
    copyBytes(bytes, off, this.buf, at + PCAP_RECORD_HEADER_LEN, capLen);
    this.used += recLen;
    this.fileBytes += recLen;
    this.frames++;
    return true;
  }

  /** Writes the buffered records to the file. */
  flush(): void {
    let done = 0;
    while (done < this.used) done += writeSync(this.fd, this.buf, done, this.used - done);
    this.used = 0;
  }

  /** Flushes and closes; further writes are counted as drops. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
