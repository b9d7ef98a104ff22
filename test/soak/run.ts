// Soak (issue 9 item 6): `npm run soak -- --minutes N`. One thread: the real host with a hostile
// VM A and well-behaved VMs B and C (HostileGuestWorld). B and C exchange frames continuously; A
// sends hostile actions; every few seconds a fault (A's channel closed and reopened mid-stream, B
// stalled so its ring fills). Heap, RSS and receive sections in use are sampled every few seconds;
// the verdict compares heap after warm-up with the end, and checks that no section leaked.
import fc from 'fast-check';
import { guestAction, HostileGuestWorld, fullBringUp, sendFrames, testFrame, type GuestAction } from '../harness/fuzz-hostile-guest.js';
import { boundedSettle } from '../harness/fuzz-kit.js';

/**
 * Hostile actions that allocate no guest pages for good (the soak must not run A out of memory):
 * sub-channel rings are allocated by subOpen and given back when they close (subClose, mid-stream
 * closes, A's reopen every 30 s).
 */
const SOAK_KINDS = new Set<GuestAction['k']>(['data', 'gpa', 'oid', 'comp', 'completeRx', 'inbound', 'staleComp', 'nvspRaw', 'init', 'ndisVer', 'subchannel', 'rndisRaw', 'subOpen', 'subClose']);

interface Sample { t: number; heapMb: number; rssMb: number; sectionsInUse: number; frames: number; hostile: number; faults: number }

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

async function main(): Promise<void> {
  const minutes = arg('minutes', 1);
  const sampleEvery = arg('sample-seconds', 5) * 1000;
  const end = Date.now() + minutes * 60_000;
  const w = await HostileGuestWorld.create();
  const pool = fc.sample(guestAction.filter((a) => SOAK_KINDS.has(a.k)), { seed: 42, numRuns: 5000 });
  const samples: Sample[] = [];
  let frames = 0, hostile = 0, faults = 0, seq = 0, stalled = false;
  let lastSample = 0, lastFault = Date.now(), lastReopen = Date.now();
  const start = Date.now();
  const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10;
  const inUse = (): number => w.lab.hv.allNics.reduce((s, n) => s + (n.coordinator.recv?.sectionsInUse ?? 0), 0);
  console.log('   t(s)  heap(MB)  rss(MB)  sections  frames   hostile  faults');
  while (Date.now() < end) {
    // Traffic: 16 frames each way between B and C, completed as they arrive.
    for (const [from, to, dst, src] of [[w.b, w.c, [0, 0x15, 0x5d, 0, 0, 0x0c], [0, 0x15, 0x5d, 0, 0, 0x0b]], [w.c, w.b, [0, 0x15, 0x5d, 0, 0, 0x0b], [0, 0x15, 0x5d, 0, 0, 0x0c]]] as const) {
      if (stalled && from === w.b) continue; // a stalled VM sends nothing either
      const fs = Array.from({ length: 4 }, (_, i) => testFrame(dst, src, 64 + ((seq * 37 + i * 101) % 1400), seq + i));
      for (let k = 0; k < 4; k++) from.completions.delete(sendFrames(from, (seq + k) % 8, fs));
      seq++;
      frames += 16;
      await boundedSettle(w.lab.loop, 'soak traffic');
      if (!(stalled && to === w.b)) to.completeRx();
      for (const k of from.completions.keys()) from.completions.delete(k);
    }
    // Hostile actions from A, with every invariant checked.
    // (Not while B is stalled: every 8th step checks B<->C, which needs B polled.)
    if (!stalled) for (let i = 0; i < 2; i++) await w.step(pool[hostile++ % pool.length]!);
    // Faults every 3 s: alternate B stalling (its ring and sections fill) and A reopening mid-stream.
    if (Date.now() - lastFault > 3000) {
      lastFault = Date.now();
      faults++;
      if (stalled) {
        stalled = false;
        w.lab.loop.add(w.b.ch);
      } else if (faults % 2 === 1) {
        stalled = true;
        w.lab.loop.remove(w.b.ch);
      } else if (Date.now() - lastReopen > 30_000) {
        lastReopen = Date.now();
        await w.reopen();
        await fullBringUp(w.a);
      }
    }
    if (Date.now() - lastSample >= sampleEvery) {
      lastSample = Date.now();
      gc();
      const m = process.memoryUsage();
      const s: Sample = { t: Math.round((Date.now() - start) / 1000), heapMb: mb(m.heapUsed), rssMb: mb(m.rss), sectionsInUse: inUse(), frames, hostile, faults };
      samples.push(s);
      console.log(`${String(s.t).padStart(7)}  ${String(s.heapMb).padStart(8)}  ${String(s.rssMb).padStart(7)}  ${String(s.sectionsInUse).padStart(8)}  ${String(frames).padStart(7)}  ${String(hostile).padStart(8)}  ${String(faults).padStart(6)}`);
    }
  }
  if (stalled) w.lab.loop.add(w.b.ch);
  await boundedSettle(w.lab.loop, 'soak end');
  for (const g of [w.b, w.c]) g.completeRx();
  await boundedSettle(w.lab.loop, 'soak end');
  await w.finish(); // every completion given back, A restarted, invariants checked
  const leaked = inUse();
  gc();
  // Warm-up: the first fifth of the samples (JIT, pools, first GC cycles). Compare medians of
  // three samples after warm-up and the last three, to ride over GC sawtooth.
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const warm = Math.max(1, Math.floor(samples.length / 5));
  const base = med(samples.slice(warm, warm + 3).map((s) => s.heapMb));
  const last = med(samples.slice(-3).map((s) => s.heapMb));
  const growth = base > 0 ? ((last - base) / base) * 100 : 0;
  const ok = leaked === 0 && growth <= 5;
  console.log(`\nsoak ${minutes} min: ${frames} frames B<->C, ${hostile} hostile actions, ${faults} faults, ${samples.length} samples`);
  console.log(`heap after warm-up ${base} MB -> end ${last} MB (${growth.toFixed(1)}%), rss end ${samples.at(-1)?.rssMb ?? 0} MB, receive sections leaked: ${leaked}`);
  console.log(`verdict: ${ok ? 'PASS' : 'FAIL'} (target: heap flat within 5% after warm-up, zero sections leaked)`);
  process.exitCode = ok ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 2;
});
