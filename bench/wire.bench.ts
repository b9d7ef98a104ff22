/**
 * RNDIS packet header + two PPIs: decode (bind the view, walk PPIs into slots) and encode (write
 * the header and two PPIs in place), beside a raw 64-byte copy measured in the same run.
 */
import { type BenchContext, nsPerOp } from './harness.js';
import { NBL_HASH_VALUE, PpiSlots, RndisPacketView, TCPIP_CHKSUM_PKTINFO, packCsumTx, writePpi, writeRndisPacketHeader } from '../src/wire/index.js';

export async function run(ctx: BenchContext): Promise<void> {
  const ms = ctx.quick ? 200 : 1000;
  const buf = new Uint8Array(2048);
  const dv = new DataView(buf.buffer);
  const csum = packCsumTx(true, false, true, false, false, 34);
  let p = writeRndisPacketHeader(dv, 0, 2, 60);
  p = writePpi(dv, p, NBL_HASH_VALUE, 0, 0xa2243368);
  writePpi(dv, p, TCPIP_CHKSUM_PKTINFO, 0, csum);
  const len = 44 + 32 + 60;

  const view = new RndisPacketView();
  const slots = new PpiSlots();
  let sink = 0;
  const decode = nsPerOp(() => {
    view.bind(dv, 0, len);
    sink += view.readPpis(slots) + slots.hash;
  }, ms);

  const out = new DataView(new ArrayBuffer(2048));
  const encode = nsPerOp(() => {
    let q = writeRndisPacketHeader(out, 0, 2, 60);
    q = writePpi(out, q, NBL_HASH_VALUE, 0, 0xa2243368);
    writePpi(out, q, TCPIP_CHKSUM_PKTINFO, 0, csum);
  }, ms);

  const src = buf.subarray(0, 64);
  const dst = new Uint8Array(2048);
  let at = 0;
  const copy = nsPerOp(() => {
    dst.set(src, at);
    at = (at + 64) & 1023;
  }, ms);

  ctx.report({ name: 'rndis header + 2 PPIs decode', unit: 'ns', value: decode, ceiling: copy, target: '<= 50 ns' });
  ctx.report({ name: 'rndis header + 2 PPIs encode', unit: 'ns', value: encode, ceiling: copy });
  ctx.report({ name: 'raw 64-byte copy (ceiling)', unit: 'ns', value: copy });
  if (sink === -1) console.log(sink);
}
