/**
 * Packet algorithm micro-benchmarks (issue 2): Toeplitz per input, checksum throughput against a
 * same-size copy in the same run, and LSO segmentation of a 64 KB super-frame.
 */
import { buildTcp4Frame, checksumArena, FrameSpec, internetSum, TcpSegmenter, toeplitzHash, toeplitzTables } from '../src/packet/index.js';
import { NETVSC_HASH_KEY_HEX } from '../src/wire/index.js';
import { nsPerOp, type BenchContext } from './harness.js';

let sink = 0;

function key(): Uint8Array {
  const k = new Uint8Array(NETVSC_HASH_KEY_HEX.length / 2);
  for (let i = 0; i < k.length; i++) k[i] = parseInt(NETVSC_HASH_KEY_HEX.slice(2 * i, 2 * i + 2), 16);
  return k;
}

function toeplitz(ctx: BenchContext, ms: number): void {
  const t = toeplitzTables(key());
  const input = new Uint8Array(36).map((_, i) => (i * 37) & 0xff);
  for (const len of [12, 36]) {
    const ns = nsPerOp(() => {
      input[0] = sink & 0xff;
      sink ^= toeplitzHash(t, input, 0, len);
    }, ms);
    ctx.report({ name: `toeplitz ${len} B`, unit: 'ns', value: ns, ...(len === 12 ? { target: '≤ 15 ns' } : {}) });
  }
}

/** internetSum over a plain array (the JavaScript loop) and over a checksumArena (WebAssembly SIMD, the host's LSO scratch). */
function checksum(ctx: BenchContext, ms: number): void {
  for (const arena of [false, true]) {
    for (const size of [1500, 65536]) {
      const src = arena ? checksumArena(size + 8) : new Uint8Array(size + 8);
      for (let i = 0; i < src.length; i++) src[i] = (i * 13) & 0xff;
      const dst = new Uint8Array(size + 8);
      const batch = size > 4096 ? 20 : 1000;
      const ns = nsPerOp(() => {
        sink ^= internetSum(src, 2, size);
      }, ms, batch);
      const copy = src.subarray(0, size);
      const copyNs = nsPerOp(() => dst.set(copy), ms, batch);
      ctx.report({ name: `checksum ${size} B${arena ? ', SIMD arena' : ''}`, unit: 'GB/s', value: size / ns, ceiling: size / copyNs, target: '≥ 7 GB/s' });
    }
  }
}

function segmentation(ctx: BenchContext, ms: number): void {
  const spec = new FrameSpec();
  spec.src4 = 0x0a000001;
  spec.dst4 = 0x0a000002;
  const payload = new Uint8Array(65000).map((_, i) => i & 0xff);
  const frame = new Uint8Array(66000);
  const n = buildTcp4Frame(frame, 0, spec, payload, 0, payload.length);
  const out = new Uint8Array(70000 + 64 * 60);
  const offsets = new Uint32Array(64);
  const lengths = new Uint32Array(64);
  const seg = new TcpSegmenter();
  const ns = nsPerOp(() => {
    sink ^= seg.segment(frame, 0, n, 1448, out, 0, offsets, lengths);
  }, ms, 10);
  ctx.report({ name: 'LSO segment 64 KB super-frame (mss 1448)', unit: 'us', value: ns / 1000 });
}

export async function run(ctx: BenchContext): Promise<void> {
  const ms = ctx.quick ? 200 : 1000;
  toeplitz(ctx, ms);
  checksum(ctx, ms);
  segmentation(ctx, ms);
  if (sink === 0.5) console.log(sink);
}
