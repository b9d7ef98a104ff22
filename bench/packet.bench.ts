/**
 * Packet algorithm micro-benchmarks (issue 2): Toeplitz per input, checksum throughput against a
 * same-size copy in the same run, LSO segmentation of a 64 KB super-frame, and copyBytes (the
 * allocation-free copy the data path uses) against Buffer.prototype.copy in the same run.
 */
import { buildTcp4Frame, checksumArena, copyBytes, FrameSpec, internetSum, TcpSegmenter, toeplitzHash, toeplitzTables } from '../src/packet/index.js';
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

/**
 * copyBytes over 43 fragment-sized places in two shared buffers (the shape of an RSC delivery),
 * equally aligned, against Buffer.prototype.copy, which is native but makes a view per copy.
 */
function copies(ctx: BenchContext, ms: number): void {
  const src = new Uint8Array(new SharedArrayBuffer(1 << 20));
  const dst = new Uint8Array(new SharedArrayBuffer(1 << 20));
  src.forEach((_, i) => (src[i] = i * 7));
  const native = Buffer.prototype.copy;
  for (const len of [1514, 9000]) {
    let i = 0;
    const step = (len + 7) & ~7;
    const ours = nsPerOp(() => {
      const k = i++ % 43;
      copyBytes(src, 64 + k * step, dst, 64 + ((k * 5) % 43) * step, len);
    }, ms);
    const base = nsPerOp(() => {
      const k = i++ % 43;
      native.call(src, dst, 64 + ((k * 5) % 43) * step, 64 + k * step, 64 + k * step + len);
    }, ms);
    ctx.report({ name: `copy ${len} B between two shared buffers (ceiling = Buffer.prototype.copy)`, unit: 'GB/s', value: len / ours, ceiling: len / base });
    // The data path's native copy of a frame at a place that recurs: set() through the view
    // made once for that place (host/netvsp/view-cache.ts); the row above is the word loop.
    const placed = Array.from({ length: 43 }, (_, k) => src.subarray(64 + k * step, 64 + k * step + len));
    const viewed = nsPerOp(() => {
      const k = i++ % 43;
      dst.set(placed[k]!, 64 + ((k * 5) % 43) * step);
    }, ms);
    ctx.report({ name: `copy ${len} B through a cached view, set() (ceiling = Buffer.prototype.copy)`, unit: 'GB/s', value: len / viewed, ceiling: len / base });
  }
  let j = 0;
  const within = nsPerOp(() => {
    const k = j++ % 43;
    copyBytes(src, 64 + k * 1520, src, 600_000 + ((k * 5) % 43) * 1520, 1514);
  }, ms);
  const withinBase = nsPerOp(() => {
    const k = j++ % 43;
    native.call(src, src, 600_000 + ((k * 5) % 43) * 1520, 64 + k * 1520, 64 + k * 1520 + 1514);
  }, ms);
  ctx.report({ name: 'copy 1514 B within one shared buffer (ceiling = Buffer.prototype.copy)', unit: 'GB/s', value: 1514 / within, ceiling: 1514 / withinBase });
}

export async function run(ctx: BenchContext): Promise<void> {
  const ms = ctx.quick ? 200 : 1000;
  toeplitz(ctx, ms);
  checksum(ctx, ms);
  segmentation(ctx, ms);
  copies(ctx, ms);
  if (sink === 0.5) console.log(sink);
}
