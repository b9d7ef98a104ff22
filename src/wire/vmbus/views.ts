/**
 * Data-path views of VMBus packets (protocol.md §2.6, §2.9, §2.10): rebound per packet with
 * bind(), which checks once; getters are plain reads. trans_id is exposed as two u32 halves so the
 * data path never makes a bigint.
 */
import { WireError } from '../../core/index.js';
import { HV_PAGE_SIZE } from '../bytes.js';

export const VMPACKET_DESCRIPTOR_SIZE = 16;

export class VmbusDescriptorView {
  protected dv: DataView = new DataView(new ArrayBuffer(VMPACKET_DESCRIPTOR_SIZE));
  protected at = 0;
  /** Packet type, offset8·8, len8·8 as read at bind(). */
  type = 0;
  dataOffset = 0;
  packetLength = 0;
  flags = 0;

  /** Binds to a packet of `len` bytes at dv[at]; checks offset8/len8 against it (§8 item 2). */
  bind(dv: DataView, at: number, len: number): this {
    if (at < 0 || len < VMPACKET_DESCRIPTOR_SIZE || at + len > dv.byteLength) {
      throw new WireError('TRUNCATED', `VMBus packet of ${len} bytes at ${at} (needs 16, buffer ${dv.byteLength})`);
    }
    const offset = dv.getUint16(at + 2, true) * 8;
    const length = dv.getUint16(at + 4, true) * 8;
    if (length < VMPACKET_DESCRIPTOR_SIZE || length > len) throw new WireError('MALFORMED', `len8 gives ${length} bytes, outside 16..${len}`);
    if (offset < VMPACKET_DESCRIPTOR_SIZE || offset > length) throw new WireError('MALFORMED', `offset8 gives ${offset}, outside 16..${length}`);
    this.dv = dv;
    this.at = at;
    this.type = dv.getUint16(at, true);
    this.dataOffset = offset;
    this.packetLength = length;
    this.flags = dv.getUint16(at + 6, true);
    return this;
  }
  /** Absolute offset of the payload and its length (including tail padding). */
  get payloadStart(): number {
    return this.at + this.dataOffset;
  }
  get payloadLength(): number {
    return this.packetLength - this.dataOffset;
  }
  get transIdLo(): number {
    return this.dv.getUint32(this.at + 8, true);
  }
  get transIdHi(): number {
    return this.dv.getUint32(this.at + 12, true);
  }
  /** Copies the 8 trans_id bytes to out[outAt..] (for echoing in a completion). */
  copyTransId(out: DataView, outAt: number): void {
    out.setUint32(outAt, this.transIdLo, true);
    out.setUint32(outAt + 4, this.transIdHi, true);
  }
}

/** Transfer-page packet (type 7): ranges into the receive buffer (§2.9, §8 items 23–25). */
export class TransferPageView extends VmbusDescriptorView {
  rangeCount = 0;
  xferPagesetId = 0;

  override bind(dv: DataView, at: number, len: number): this {
    super.bind(dv, at, len);
    if (this.dataOffset < 24) throw new WireError('MALFORMED', `transfer-page packet offset8 ${this.dataOffset / 8} leaves no room for its 24-byte header`);
    const n = dv.getUint32(at + 20, true);
    if (n > (this.dataOffset - 24) / 8) throw new WireError('MALFORMED', `range_cnt ${n} runs past offset8 (${this.dataOffset} bytes)`);
    this.rangeCount = n;
    this.xferPagesetId = dv.getUint16(at + 16, true);
    return this;
  }
  rangeLength(i: number): number {
    return this.dv.getUint32(this.at + 24 + 8 * i, true);
  }
  rangeOffset(i: number): number {
    return this.dv.getUint32(this.at + 28 + 8 * i, true);
  }
}

/**
 * GPA-direct packet (type 9) range iterator (§2.10). bind() walks the variable-size ranges once
 * to check they fit before offset8; next() then steps through them without checks.
 */
export class GpaRangeIterator extends VmbusDescriptorView {
  rangeCount = 0;
  /** Current range (after next()). */
  byteCount = 0;
  byteOffset = 0;
  pfnCount = 0;
  private cur = 0;
  private nextAt = 0;
  private left = 0;

  override bind(dv: DataView, at: number, len: number): this {
    super.bind(dv, at, len);
    if (this.dataOffset < 24) throw new WireError('MALFORMED', `GPA-direct offset8 leaves no room for its 24-byte header`);
    const n = dv.getUint32(at + 20, true);
    let p = at + 24;
    const end = at + this.dataOffset;
    for (let i = 0; i < n; i++) {
      if (end - p < 8) throw new WireError('TRUNCATED', `GPA range ${i} header runs past offset8`);
      const pfns = Math.ceil((dv.getUint32(p + 4, true) + dv.getUint32(p, true)) / HV_PAGE_SIZE);
      if ((end - p - 8) / 8 < pfns) throw new WireError('TRUNCATED', `GPA range ${i} with ${pfns} PFNs runs past offset8`);
      p += 8 + 8 * pfns;
    }
    this.rangeCount = n;
    this.rewind();
    return this;
  }
  rewind(): void {
    this.left = this.rangeCount;
    this.nextAt = this.at + 24;
  }
  /** Moves to the next range; false when there is none. */
  next(): boolean {
    if (this.left === 0) return false;
    this.left--;
    this.cur = this.nextAt;
    this.byteCount = this.dv.getUint32(this.cur, true);
    this.byteOffset = this.dv.getUint32(this.cur + 4, true);
    this.pfnCount = Math.ceil((this.byteOffset + this.byteCount) / HV_PAGE_SIZE);
    this.nextAt = this.cur + 8 + 8 * this.pfnCount;
    return true;
  }
  pfnLo(j: number): number {
    return this.dv.getUint32(this.cur + 8 + 8 * j, true);
  }
  pfnHi(j: number): number {
    return this.dv.getUint32(this.cur + 12 + 8 * j, true);
  }
}
