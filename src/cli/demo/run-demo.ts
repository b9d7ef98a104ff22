/**
 * The demo end to end: build the workload's lab (host worker + two VM workers), run it with the
 * live view, print the summary, write the HTML report. Returns the running ScenarioRun when the
 * caller wants to keep it (--keep), otherwise closes it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { HostProfileName } from '../../host/index.js';
import { ScenarioRun, type LabMode, type ScenarioResult } from '../../lab/index.js';
import { renderReport, type ReportData } from '../report/index.js';
import { progressView } from './progress.js';
import { demoReportData } from './report.js';
import { formatResult } from './summary.js';
import { DEMO_SKIPPED, demoScenario } from './workload.js';

export interface DemoOptions {
  readonly profile: HostProfileName;
  readonly durationMs: number;
  readonly reportPath: string;
  readonly json: boolean;
  readonly keep: boolean;
  readonly tty: boolean;
  readonly mode?: LabMode;
  readonly write: (s: string) => void;
}

export interface DemoOutcome {
  readonly result: ScenarioResult;
  readonly report: ReportData;
  readonly reportPath: string;
  /** Still running when `keep` was asked for; the caller closes it. */
  readonly run: ScenarioRun | null;
}

export async function runDemo(o: DemoOptions): Promise<DemoOutcome> {
  const spec = demoScenario(o.profile, o.durationMs);
  const quiet = o.json;
  if (!quiet) {
    o.write(`netvsc demo: ${spec.description}\n`);
    for (const s of DEMO_SKIPPED) o.write(`  skipped: ${s}\n`);
  }
  const view = progressView({ durationMs: o.durationMs, tty: o.tty && !quiet, write: quiet ? () => {} : o.write });
  const run = await ScenarioRun.create(spec, { onSample: (s) => view.onSample(s), onEvent: (e) => view.onEvent(e), ...(o.mode ? { mode: o.mode } : {}) });
  let result: ScenarioResult;
  try {
    result = await run.run();
  } catch (e) {
    await run.close();
    throw e;
  }
  view.done();
  const report = demoReportData(result, DEMO_SKIPPED);
  const reportPath = resolve(o.reportPath);
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, renderReport(report));
  if (o.json) o.write(`${JSON.stringify({ ...result, samples: undefined, skipped: DEMO_SKIPPED, reportPath }, null, 2)}\n`);
  else o.write(`\n${formatResult(result)}\n\nReport: ${reportPath}\n`);
  if (o.keep) return { result, report, reportPath, run };
  await run.close();
  return { result, report, reportPath, run: null };
}
