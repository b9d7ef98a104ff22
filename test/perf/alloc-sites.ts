// Where the data path allocates: a V8 sampling heap profile (every object counted, collected or
// not) of alloc-lab.ts's traffic after a warm-up, as bytes per frame by allocating function and
// its three callers. Run after a build: `node dist/test/perf/alloc-sites.js [small|big|lso]`.
// Paths are dist's (.js); the function names find the .ts lines.
import { Session } from 'node:inspector/promises';
import { AllocLab, type Burst } from './alloc-lab.js';

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

async function profile(lab: AllocLab, kind: string): Promise<void> {
  const burst: Burst = kind === 'lso' ? lab.lsoBurst() : kind === 'big' ? lab.udpBurst(1472, 128) : lab.udpBurst(18, 256);
  for (let k = 0; k < (kind === 'lso' ? 1500 : 300); k++) burst(); // as no-alloc.test.ts warms each case
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  let frames = 0;
  for (let k = 0; k < 400; k++) frames += burst();
  const { profile: p } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  session.disconnect();
  const sites = new Map<string, number>();
  const walk = (node: ProfileNode, callers: readonly string[]): void => {
    const f = node.callFrame;
    const here = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`;
    const stack = [here, ...callers].slice(0, 4);
    if (node.selfSize > 0) sites.set(stack.join(' <- '), (sites.get(stack.join(' <- ')) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c, stack);
  };
  walk(p.head, []);
  let total = 0;
  for (const v of sites.values()) total += v;
  console.log(`\n${kind}: ${frames} frames, ${(total / frames).toFixed(1)} B/frame sampled`);
  for (const [site, bytes] of [...sites].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`${(bytes / frames).toFixed(1).padStart(8)} B/frame  ${site}`);
}

const lab = await AllocLab.create();
for (const kind of process.argv.length > 2 ? process.argv.slice(2) : ['small', 'big', 'lso']) await profile(lab, kind);
await lab.close();
