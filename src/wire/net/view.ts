/**
 * The common shape of the packet views (STYLE.md §2, smoltcp's check-once views): a view is
 * rebound per packet, `tryBind()` checks every length once and returns false with a fault
 * recorded (no exception, no allocation: the data path drops bad frames without try/catch), and
 * `bind()` turns the fault into a WireError for callers that want one. After a successful bind
 * every getter stays in bounds.
 */
import { WireError, type ErrorCode } from '../../core/index.js';

export abstract class NetView {
  /** The bytes the view is bound to; offsets below are absolute indexes into it. */
  bytes: Uint8Array = new Uint8Array(0);
  /** Absolute offset of the header's first byte. */
  at = 0;
  /** Bytes available from `at` (the header and everything it covers). */
  len = 0;
  /** Why the last tryBind() failed: a constant message, never built per packet. */
  fault = '';
  faultCode: ErrorCode = 'TRUNCATED';

  protected fail(code: ErrorCode, why: string): false {
    this.faultCode = code;
    this.fault = why;
    return false;
  }

  /** Records the region, or fails when [at, at+len) is not inside bytes or is shorter than min. */
  protected region(bytes: Uint8Array, at: number, len: number, min: number, what: string): boolean {
    if (!(at >= 0 && len >= 0 && at + len <= bytes.length)) return this.fail('TRUNCATED', 'packet region lies outside its buffer');
    if (len < min) return this.fail('TRUNCATED', what);
    this.bytes = bytes;
    this.at = at;
    this.len = len;
    return true;
  }

  /** Throws the recorded fault as a WireError. */
  protected raise(): never {
    throw new WireError(this.faultCode, this.fault);
  }

  protected u8(o: number): number {
    return this.bytes[this.at + o]!;
  }

  protected u16(o: number): number {
    const b = this.bytes;
    const i = this.at + o;
    return (b[i]! << 8) | b[i + 1]!;
  }

  protected u32(o: number): number {
    const b = this.bytes;
    const i = this.at + o;
    return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  }

  protected set16(o: number, v: number): void {
    const i = this.at + o;
    this.bytes[i] = (v >>> 8) & 0xff;
    this.bytes[i + 1] = v & 0xff;
  }

  protected set32(o: number, v: number): void {
    const i = this.at + o;
    this.bytes[i] = (v >>> 24) & 0xff;
    this.bytes[i + 1] = (v >>> 16) & 0xff;
    this.bytes[i + 2] = (v >>> 8) & 0xff;
    this.bytes[i + 3] = v & 0xff;
  }
}
