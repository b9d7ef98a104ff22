// Shared by the e2e tests: a lab that is always closed (workers terminated) after each test.
import { afterEach } from 'vitest';
import { Lab, type LabOptions, type LabNic, type SinkReport } from '../../src/lab/index.js';

const open: Lab[] = [];

/** Creates a lab that afterEach closes, whatever the test did. */
export async function newLab(o: LabOptions): Promise<Lab> {
  const lab = await Lab.create({ callTimeoutMs: 20_000, ...o });
  open.push(lab);
  return lab;
}

afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

/** Runs one flow from `from` to `to` and waits until the sink has seen every frame (or fails naming the flow). */
export async function runFlow(
  lab: Lab,
  from: LabNic,
  to: LabNic,
  o: { flow: number; sizes: readonly number[]; count: number; pps?: number; batch?: number; accounted?: (r: SinkReport) => Promise<boolean> },
): Promise<SinkReport> {
  const sink = await to.startSink({ flow: o.flow, count: o.count });
  const gen = await from.startGenerator({ flow: o.flow, dstMac: to.mac, sizes: o.sizes, count: o.count, pps: o.pps ?? 0, batch: o.batch ?? 32 });
  await lab.waitFor(`generator of flow ${o.flow} to finish`, async () => (await gen.report()).done);
  // Every frame either arrived or is accounted for by the caller (a counted drop); a timeout
  // leaves the report to show what is missing.
  const accounted = o.accounted ?? (async (r: SinkReport) => r.unique >= o.count);
  await lab.waitFor(`flow ${o.flow}: all ${o.count} frames`, async () => accounted(await sink.report()), 10_000).catch(() => {});
  return sink.report();
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
