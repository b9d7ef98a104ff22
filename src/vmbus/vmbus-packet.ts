/**
 * One packet as the reader sees it: the private copy (§2.4 step 3-5), with the descriptor
 * fields (§2.6) decoded once per packet into plain numbers. Valid until the next RingReader.next().
 */
export class VmbusPacket {
  /** The private per-channel copy; the packet starts at 0. */
  readonly buf: Uint8Array;
  readonly dv: DataView;
  /** The same bytes as 32-bit words, for the reader's aligned copy. */
  readonly i32: Int32Array;
  /** The same bytes as 64-bit words, for the reader's 8-byte copy of small packets. */
  readonly b64: BigInt64Array;
  type = 0;
  offset8 = 0;
  len8 = 0;
  flags = 0;
  /** trans_id as two u32 halves: it is only echoed or looked up, never computed on (STYLE §2). */
  transIdLo = 0;
  transIdHi = 0;

  constructor(maxPktSize: number) {
    this.buf = new Uint8Array(maxPktSize);
    this.dv = new DataView(this.buf.buffer);
    this.i32 = new Int32Array(this.buf.buffer);
    this.b64 = new BigInt64Array(this.buf.buffer);
  }

  /** Byte offset of the payload (the "data") in buf. */
  get payloadOffset(): number {
    return this.offset8 * 8;
  }

  /** Payload bytes including tail padding (§2.6). */
  get payloadLen(): number {
    return (this.len8 - this.offset8) * 8;
  }

  /** Packet bytes in buf (len8 × 8, after clamping to max_pkt_size). */
  get len(): number {
    return this.len8 * 8;
  }

  /** @internal the reader decodes the descriptor it just copied. */
  decode(): void {
    const w = this.i32;
    this.decodeWords(w[0]!, w[1]!);
  }

  /**
   * @internal decode() when the reader already holds the first two descriptor words (it loaded
   * them to check the packet) and has copied the trans_id words into buf.
   */
  decodeWords(w0: number, w1: number): void {
    const w = this.i32;
    this.type = w0 & 0xffff;
    this.offset8 = w0 >>> 16;
    this.len8 = w1 & 0xffff;
    this.flags = w1 >>> 16;
    this.transIdLo = w[2]! >>> 0;
    this.transIdHi = w[3]! >>> 0;
  }
}
