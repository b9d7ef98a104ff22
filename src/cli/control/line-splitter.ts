/** Splits a byte stream into lines, refusing a line longer than a limit so a peer cannot make us buffer without end. */
export class LineSplitter {
  private pending = '';
  constructor(private readonly maxLineBytes: number) {}

  /** The complete lines in `chunk` (plus what was pending); throws RangeError past the limit. */
  push(chunk: string): string[] {
    const parts = (this.pending + chunk).split('\n');
    this.pending = parts.pop()!;
    if (this.pending.length > this.maxLineBytes) throw new RangeError(`line longer than ${this.maxLineBytes} bytes`);
    return parts.filter((l) => l.trim() !== '');
  }
}
