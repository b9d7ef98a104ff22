/**
 * Host scratch buffers whose word sums run as WebAssembly SIMD (issue 5, bulk LSO/RSC). A
 * JavaScript loop sums at most ~13 GB/s (each Uint32Array load is converted to float64 before it
 * is added); 128-bit loads widened into 64-bit lanes sum a 64 KiB frame in ~2 µs (~30 GB/s:
 * bench/packet "checksum 65536 B, SIMD arena" next to the plain-array row, 29.7 against 13.1 on
 * 25 Nov at load 2). WebAssembly only reads its own memory, so the bytes must already
 * live there: checksumArena() hands out a Uint8Array over a fresh WebAssembly.Memory (never
 * grown, so the array is never detached) and internetSum() sums such arrays with the module.
 * The host's LSO scratch and gather buffer are arenas; guest memory (SharedArrayBuffers) is not.
 *
 * The module is assembled here byte by byte (no toolchain in the build): one function
 * `sum(ptr, blocks) -> i32`, Σ of the u32 words of `blocks` 32-byte blocks from ptr, each block
 * two v128 loads whose u32 lanes are widened (i64x2.extend_low/high_i32x4_u) into two i64x2
 * accumulators, folded with end-around carry (2^32 ≡ 2^16 ≡ 1 mod 0xffff) to below 2^18 before it
 * returns: a small integer crosses into JavaScript as is, while an f64 result was a new heap
 * number per call (~32 B a frame at 1514 B in test/perf). A block adds at most 8 × 2^32 = 2^35,
 * so 2^17 blocks per call keep the 64-bit sum far from overflow.
 */

/** Blocks per call (see above: the 64-bit sum cannot overflow). */
export const SIMD_MAX_BLOCKS = 1 << 17;

type SumFn = (ptr: number, blocks: number) => number;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const simd = (op: number): number[] => [0xfd, ...leb(op)];
const name = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const V128_LOAD = 0x00;
const I64X2_EXTEND_LOW_U32 = 0xc9;
const I64X2_EXTEND_HIGH_U32 = 0xca;
const I64X2_ADD = 0xce;
const I64X2_EXTRACT_LANE = 0x1d;
/** i64.const takes a signed LEB128 immediate: 0xffffffff is ff ff ff ff 0f, 0xffff is ff ff 03. */
const I64_CONST = 0x42;
const I64_AND = 0x83;
const I64_SHR_U = 0x88;
const I64_ADD = 0x7c;
const I32_WRAP_I64 = 0xa7;

/** acc += extend(lo|hi of v): `acc` and `v` are local indices. */
function widenAdd(acc: number, v: number, op: number, load: number[] | null): number[] {
  return [LOCAL_GET, acc, ...(load ?? [LOCAL_GET, v]), ...simd(op), ...simd(I64X2_ADD), LOCAL_SET, acc];
}

function moduleBytes(): Uint8Array {
  // params: 0 ptr, 1 blocks; locals: 2 acc0, 3 acc1, 4 v (v128), 5 s (i64)
  const loadAt = (offset: number): number[] => [LOCAL_GET, 0, ...simd(V128_LOAD), 4, offset, LOCAL_TEE, 4];
  const body = [
    2, 3, 0x7b, 1, 0x7e,
    0x02, 0x40, // block
    0x03, 0x40, // loop
    LOCAL_GET, 1, 0x45, 0x0d, 1, // blocks == 0 → leave
    ...widenAdd(2, 4, I64X2_EXTEND_LOW_U32, loadAt(0)),
    ...widenAdd(3, 4, I64X2_EXTEND_HIGH_U32, null),
    ...widenAdd(2, 4, I64X2_EXTEND_LOW_U32, loadAt(16)),
    ...widenAdd(3, 4, I64X2_EXTEND_HIGH_U32, null),
    LOCAL_GET, 0, 0x41, 32, 0x6a, LOCAL_SET, 0, // ptr += 32
    LOCAL_GET, 1, 0x41, 1, 0x6b, LOCAL_SET, 1, // blocks -= 1
    0x0c, 0, // continue
    0x0b, 0x0b,
    // s = (acc0 + acc1) lane 0 + lane 1; s = (s & 0xffffffff) + (s >> 32); (s & 0xffff) + (s >> 16) as i32
    LOCAL_GET, 2, LOCAL_GET, 3, ...simd(I64X2_ADD), LOCAL_TEE, 4, ...simd(I64X2_EXTRACT_LANE), 0,
    LOCAL_GET, 4, ...simd(I64X2_EXTRACT_LANE), 1, I64_ADD,
    LOCAL_TEE, 5, I64_CONST, 0xff, 0xff, 0xff, 0xff, 0x0f, I64_AND, LOCAL_GET, 5, I64_CONST, 32, I64_SHR_U, I64_ADD,
    LOCAL_TEE, 5, I64_CONST, 0xff, 0xff, 0x03, I64_AND, LOCAL_GET, 5, I64_CONST, 16, I64_SHR_U, I64_ADD,
    I32_WRAP_I64,
    0x0b,
  ];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f]), // (i32, i32) -> i32
    ...section(2, [1, ...name('env'), ...name('mem'), 2, 0, 1]), // import memory (min 1 page)
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('sum'), 0, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** The part of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (d: { initial: number }) => { readonly buffer: ArrayBuffer };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

function module(): object | null {
  if (compiled === undefined) {
    const bytes = moduleBytes();
    compiled = wasm !== undefined && wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/** Arena buffers and their module instance's sum(). */
const arenas = new WeakMap<ArrayBufferLike, SumFn>();

/**
 * Arenas are cut one after another from 4 MiB memories (a larger one gets its own): a queue's
 * gather scratch and LSO buffers, made together, then share one buffer, so the cut of a segment
 * out of the gathered super-frame is a copy within one buffer (copy.ts: native copyWithin, no view
 * made per copy). A memory is never grown, so no arena is ever detached; it is freed with the last
 * arena that uses it.
 */
const CHUNK_BYTES = 4 << 20;
let chunk: ArrayBuffer | null = null;
let chunkUsed = 0;

/**
 * A zeroed scratch of `size` bytes in WebAssembly memory, summed by SIMD in internetSum() (or a
 * plain Uint8Array where WebAssembly SIMD is missing). Allocate at setup, never per packet.
 */
export function checksumArena(size: number): Uint8Array {
  const m = module();
  if (m === null || wasm === undefined) return new Uint8Array(size);
  const need = (size + 63) & ~63;
  if (chunk === null || chunkUsed + need > chunk.byteLength) {
    const mem = new wasm.Memory({ initial: Math.max(1, Math.ceil(Math.max(CHUNK_BYTES, need) / 65536)) });
    const inst = new wasm.Instance(m, { env: { mem } });
    arenas.set(mem.buffer, inst.exports['sum'] as SumFn);
    chunk = mem.buffer;
    chunkUsed = 0;
  }
  const a = new Uint8Array(chunk, chunkUsed, size);
  chunkUsed += need;
  return a;
}

/** The SIMD sum for bytes in an arena, else undefined. */
export function arenaSum(bytes: Uint8Array): SumFn | undefined {
  return arenas.get(bytes.buffer);
}
