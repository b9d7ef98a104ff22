/**
 * JSON-lines sink for NVSP/RNDIS message traces: one JSON object per line. Control-path rate, so
 * it stringifies per record, but lines are batched into one write per `bufferBytes`. Files
 * rotate at maxFileBytes (path → path.1 → … → path.N, the oldest dropped), and a record limit
 * turns the rest into counted drops, so a long run cannot fill the disk.
 */
import { closeSync, existsSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { ConfigError } from '../../core/index.js';

export interface TraceWriterOptions {
  /** Rotate when the current file would exceed this (default 64 MiB). */
  readonly maxFileBytes?: number;
  /** Rotated files kept besides the current one (default 3). */
  readonly maxFiles?: number;
  /** Stop after this many records in total (default unlimited). */
  readonly maxRecords?: number;
  /** Batch size before a write (default 64 KiB). */
  readonly bufferBytes?: number;
}

export class TraceWriter {
  private readonly maxFileBytes: number;
  private readonly maxFiles: number;
  private readonly maxRecords: number;
  private readonly bufferBytes: number;
  private fd: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private fileBytes = 0;
  records = 0;
  dropped = 0;

  constructor(
    readonly path: string,
    opts: TraceWriterOptions = {},
  ) {
    this.maxFileBytes = opts.maxFileBytes ?? 64 << 20;
    this.maxFiles = opts.maxFiles ?? 3;
    this.maxRecords = opts.maxRecords ?? Number.POSITIVE_INFINITY;
    this.bufferBytes = opts.bufferBytes ?? 64 << 10;
    if (this.maxFileBytes < 256 || this.maxFiles < 0) throw new ConfigError('BAD_CONFIG', 'trace maxFileBytes must be ≥ 256 and maxFiles ≥ 0');
    this.fd = openSync(path, 'w');
  }

  /** Appends one record (a plain JSON-able object). False when dropped by a limit or after close. */
  write(record: object): boolean {
    if (this.fd < 0 || this.records >= this.maxRecords) {
      this.dropped++;
      return false;
    }
    const line = `${JSON.stringify(record)}\n`;
    const len = Buffer.byteLength(line);
    if (len > this.maxFileBytes) {
      this.dropped++;
      return false;
    }
    if (this.fileBytes + this.pendingBytes + len > this.maxFileBytes) this.rotate();
    this.pending.push(line);
    this.pendingBytes += len;
    this.records++;
    if (this.pendingBytes >= this.bufferBytes) this.flush();
    return true;
  }

  flush(): void {
    if (this.pendingBytes === 0 || this.fd < 0) return;
    writeSync(this.fd, this.pending.join(''));
    this.fileBytes += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  private rotate(): void {
    this.flush();
    closeSync(this.fd);
    if (this.maxFiles === 0) rmSync(this.path, { force: true });
    else {
      rmSync(`${this.path}.${this.maxFiles}`, { force: true });
      for (let i = this.maxFiles - 1; i >= 1; i--) if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      renameSync(this.path, `${this.path}.1`);
    }
    this.fd = openSync(this.path, 'w');
    this.fileBytes = 0;
  }
}
