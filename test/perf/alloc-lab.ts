// Traffic for the allocation checks (no-alloc.test.ts) and the allocation-site profiler
// (alloc-sites.ts): the offload lab's real host and two real netvsc guests on one thread, a
// sending to b, and a way to measure what the heap grew by per frame.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildTcp4Frame, buildUdp4Frame } from '../../src/packet/index.js';
import { RX_F_FRAGS, XMIT_BUSY, XMIT_IN_PLACE } from '../../src/guest/index.js';
import { OffloadLab, pump, testSpec, type LabGuest } from '../offload/harness.js';

/** One burst of traffic, all of it delivered before it returns; returns the frames it counts. */
export type Burst = () => number;

export class AllocLab {
  /** Frames b's stack was handed (a counter: the sink itself allocates nothing). */
  received = 0;
  /** Of those, fragment lists (RX_F_FRAGS, Contract B). */
  receivedLists = 0;
  /** Super-frames a sent through lsoBurst(). */
  superFrames = 0;
  /** Of lsoBurstInPlace()'s, those taken XMIT_IN_PLACE (not copied). */
  inPlace = 0;

  private constructor(
    readonly lab: OffloadLab,
    readonly a: LabGuest,
    readonly b: LabGuest,
  ) {
    b.dev.onReceive = (_u8, _off, _len, m) => {
      this.received++;
      if ((m.flags & RX_F_FRAGS) !== 0) this.receivedLists++;
    };
  }

  /** VMs a and b, two channels each, on the azure profile; b has spoken once, so its MAC is learned. */
  static async create(): Promise<AllocLab> {
    const lab = new OffloadLab('azure');
    const a = await lab.guest('a', '00:15:5d:00:00:0a', { channels: 2, rxSections: 512, txSections: 256 });
    const b = await lab.guest('b', '00:15:5d:00:00:0b', { channels: 2, rxSections: 1024, txSections: 64 });
    const f = new Uint8Array(128);
    const n = buildUdp4Frame(f, 0, testSpec(a.mac, b.mac, { dstPort: 9 }), new Uint8Array(18), 0, 18);
    b.dev.xmit(f, 0, n, { csum: false, mss: 0 });
    b.dev.flush();
    await lab.settle();
    return new AllocLab(lab, a, b);
  }

  /** `batch` UDP frames with `payloadLen` bytes each (64 flows by source port) with xmit_more, one flush. */
  udpBurst(payloadLen: number, batch: number): Burst {
    const s = testSpec(this.b.mac, this.a.mac, { dstPort: 9 });
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 64; i++) {
      s.srcPort = 10000 + i;
      const f = new Uint8Array(payloadLen + 64);
      frames.push(f.subarray(0, buildUdp4Frame(f, 0, s, new Uint8Array(payloadLen), 0, payloadLen)));
    }
    const req = { csum: true, mss: 0 } as const;
    const dev = this.a.dev;
    const loop = this.lab.lab.loop;
    let i = 0;
    return () => {
      const before = this.received;
      for (let k = 0; k < batch; k++) {
        const f = frames[i++ & 63]!;
        if (!dev.xmit(f, 0, f.length, req, k !== batch - 1)) break;
      }
      dev.flush();
      loop.drain();
      return this.received - before;
    };
  }

  /** Segments (MSS 1460) in one lsoBurst() super-frame. */
  static readonly LSO_SEGMENTS = Math.ceil((65535 - 40) / 1460);

  /** a's 64 KB TCP super-frame to b (MSS 1460) and the stack's request for it. */
  private lsoFrame(): { frame: Uint8Array; n: number; req: { readonly csum: true; readonly mss: 1460 }; payloadLen: number } {
    const s = testSpec(this.b.mac, this.a.mac, { srcPort: 40000, dstPort: 5001, seq: 1 });
    const payloadLen = 65535 - 40;
    const frame = new Uint8Array(payloadLen + 64);
    const n = buildTcp4Frame(frame, 0, s, new Uint8Array(payloadLen).fill(0x5a), 0, payloadLen);
    return { frame, n, req: { csum: true, mss: 1460 } as const, payloadLen };
  }

  /** One 64 KB TCP super-frame (MSS 1460: segmented by the host, coalesced by b's GRO); returns its segments. */
  lsoBurst(): Burst {
    const { frame, n, req, payloadLen } = this.lsoFrame();
    const dev = this.a.dev;
    const loop = this.lab.lab.loop;
    let seq = 1;
    return () => {
      // The stack's next super-frame: same headers, the next sequence number (xmit re-prepares it).
      frame[38] = seq >>> 24;
      frame[39] = (seq >>> 16) & 0xff;
      frame[40] = (seq >>> 8) & 0xff;
      frame[41] = seq & 0xff;
      if (!dev.xmit(frame, 0, n, req, false)) return 0;
      seq = (seq + payloadLen) >>> 0;
      this.superFrames++;
      loop.drain();
      return AllocLab.LSO_SEGMENTS;
    };
  }

  /**
   * lsoBurst() sent in place (Contract A): the super-frame lives in a's guest memory (two buffers,
   * described once by mapTxPages), xmitInPlace, a buffer reused only after its onTxDone.
   */
  async lsoBurstInPlace(): Promise<Burst> {
    const { frame, n, req, payloadLen } = this.lsoFrame();
    const dev = this.a.dev;
    const loop = this.lab.lab.loop;
    const pages = Math.ceil(n / 4096);
    const first = dev.allocator.allocContiguous(2 * pages);
    await pump(this.lab.lab, dev.mapTxPages(Array.from({ length: 2 * pages }, (_, i) => first + i)));
    const u8 = dev.memory.u8;
    const offs = [dev.memory.gpa(first), dev.memory.gpa(first + pages)];
    for (const o of offs) u8.set(frame.subarray(0, n), o);
    const busy = new Uint8Array(2);
    dev.onTxDone = (t) => void (busy[t] = 0);
    let seq = 1;
    return () => {
      const i = busy[0] === 0 ? 0 : busy[1] === 0 ? 1 : -1;
      if (i < 0) return 0;
      const at = offs[i]!;
      u8[at + 38] = seq >>> 24;
      u8[at + 39] = (seq >>> 16) & 0xff;
      u8[at + 40] = (seq >>> 8) & 0xff;
      u8[at + 41] = seq & 0xff;
      const r = dev.xmitInPlace(at, n, req, false, i);
      if (r === XMIT_BUSY) return 0;
      if (r === XMIT_IN_PLACE) {
        busy[i] = 1;
        this.inPlace++;
      }
      seq = (seq + payloadLen) >>> 0;
      this.superFrames++;
      loop.drain();
      return AllocLab.LSO_SEGMENTS;
    };
  }

  async close(): Promise<void> {
    await this.lab.close();
  }
}

export interface Measured {
  /** Bytes allocated per frame over the chunks no GC touched, less the 10 % that allocated most. */
  readonly perFrame: number;
  /** Frames in those chunks, and in all chunks. */
  readonly measuredFrames: number;
  readonly frames: number;
  /** Collections seen while measuring (the forced one first included). */
  readonly gcs: number;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Runs `burst` `perChunk` times a chunk, `chunks` chunks, reading the heap's used size around each
 * chunk. Between two collections the heap only grows, by what was allocated, so a chunk no GC ran
 * in (PerformanceObserver 'gc' entries, matched by time) measures its own allocation exactly;
 * chunks a GC touched are left out. The average also leaves out the 10 % of chunks that allocated
 * most: a chunk now and then carries a one-off (the optimising compiler's output, a new old-space
 * buffer) that is not per frame, while an allocation per frame shows in every chunk.
 */
export async function measureAllocation(burst: Burst, chunks: number, perChunk: number): Promise<Measured> {
  const t0 = new Float64Array(chunks);
  const t1 = new Float64Array(chunks);
  const grew = new Float64Array(chunks);
  const frames = new Float64Array(chunks);
  const gcs: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push(e.startTime, e.startTime + e.duration);
  });
  obs.observe({ entryTypes: ['gc'] });
  // What reading the statistics costs by itself (an object per read), taken off each chunk.
  let overhead = Infinity;
  for (let i = 0; i < 5; i++) {
    const h0 = getHeapStatistics().used_heap_size;
    overhead = Math.min(overhead, getHeapStatistics().used_heap_size - h0);
  }
  gc();
  // The forced collection can throw away optimised code (code whose embedded maps died), and the
  // first pass after it then runs partly unoptimised: the first LSO pass measured 170-970 B a
  // segment in 9 of 14 runs, the three passes after it 4.6-5.3 in all. So the same traffic runs
  // once, unmeasured, before the measured pass.
  for (let k = 0; k < chunks * perChunk; k++) burst();
  for (let c = 0; c < chunks; c++) {
    t0[c] = performance.now();
    const h0 = getHeapStatistics().used_heap_size;
    let n = 0;
    for (let k = 0; k < perChunk; k++) n += burst();
    const h1 = getHeapStatistics().used_heap_size;
    t1[c] = performance.now();
    grew[c] = h1 - h0 - overhead;
    frames[c] = n;
  }
  await new Promise((r) => setTimeout(r, 100)); // 'gc' entries arrive later (not by the next setImmediate)
  obs.disconnect();
  const clean: number[] = [];
  let total = 0;
  for (let c = 0; c < chunks; c++) {
    total += frames[c]!;
    let touched = grew[c]! < 0 || frames[c] === 0; // the heap shrank: a collection ran, seen or not
    for (let g = 0; g < gcs.length && !touched; g += 2) touched = gcs[g]! <= t1[c]! && gcs[g + 1]! >= t0[c]!;
    if (!touched) clean.push(c);
  }
  clean.sort((x, y) => grew[x]! / frames[x]! - grew[y]! / frames[y]!);
  let bytes = 0;
  let measuredFrames = 0;
  for (const c of clean.slice(0, Math.ceil(clean.length * 0.9))) {
    bytes += grew[c]!;
    measuredFrames += frames[c]!;
  }
  return { perFrame: measuredFrames > 0 ? bytes / measuredFrames : Infinity, measuredFrames, frames: total, gcs: gcs.length / 2 };
}
