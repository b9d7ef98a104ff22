// Headless Chromium for the report tests: where it is, whether a test may run without it, the
// DOM after the page's scripts ran, and the charts in that DOM.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
/** Browser checks run when Chromium is installed, and always under CI=true (where its absence fails). */
export const runBrowserChecks = haveChromium || process.env['CI'] === 'true';

/** Prints why the browser checks are skipped (once per test file). */
export function reportSkip(file: string): void {
  if (!runBrowserChecks) console.log(`${file}: skipping the browser checks: ${CHROMIUM} is missing (apt-get install chromium)`);
}

/** The DOM of a local HTML file after its scripts ran (`--dump-dom`), with a throwaway profile in dir. */
export async function dumpDom(file: string, dir: string): Promise<string> {
  const { stdout } = await promisify(execFile)(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${file}`,
  ], { timeout: 60_000, maxBuffer: 32 << 20 });
  return stdout;
}

/** Each `<svg …>…</svg>` of a dumped DOM, keyed by its data-chart (+ data-index). */
export function charts(dom: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of dom.matchAll(/<svg\b[^>]*>[\s\S]*?<\/svg>/g)) {
    const open = /<svg\b[^>]*>/.exec(m[0])![0];
    const kind = /data-chart="([^"]+)"/.exec(open)?.[1];
    const idx = /data-index="(\d+)"/.exec(open)?.[1];
    if (kind) out.set(idx === undefined ? kind : `${kind}${idx}`, m[0]);
  }
  return out;
}
