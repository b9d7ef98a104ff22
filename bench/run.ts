/**
 * `npm run bench [-- --quick] [--filter TEXT] [--json FILE]`: runs every bench/*.bench.js in
 * dist/bench, prints a table, and optionally writes [{name, unit, value, ceiling, ratio}] as JSON.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchContext, BenchRow } from './harness.js';

function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) {
    console.error(`bench: ${flag} needs a value`);
    process.exit(2);
  }
  return v;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  return v.toFixed(v < 10 ? 2 : 1);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const known = new Set(['--quick', '--filter', '--json']);
  for (const a of args) {
    if (a.startsWith('--') && !known.has(a)) {
      console.error(`bench: unknown option ${a} (known: --quick, --filter TEXT, --json FILE)`);
      process.exit(2);
    }
  }
  const filter = argValue(args, '--filter');
  const jsonFile = argValue(args, '--json');
  const quick = args.includes('--quick');
  const here = dirname(fileURLToPath(import.meta.url));
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.js'))
    .filter((f) => !filter || f.includes(filter))
    .sort();
  const rows: BenchRow[] = [];
  const ctx: BenchContext = {
    quick,
    report(row) {
      const r: BenchRow =
        row.ceiling !== undefined && row.ratio === undefined && row.ceiling !== 0
          ? { ...row, ratio: row.value / row.ceiling }
          : row;
      rows.push(r);
      const ceil = r.ceiling !== undefined ? `  ceiling ${fmt(r.ceiling)} ${r.unit}  ratio ${(r.ratio! * 100).toFixed(0)}%` : '';
      const target = r.target ? `  (target ${r.target})` : '';
      console.log(`${r.name.padEnd(44)} ${fmt(r.value).padStart(10)} ${r.unit.padEnd(7)}${ceil}${target}`);
    },
  };
  console.log(`netvsc benchmarks on node ${process.version}, ${quick ? 'quick' : 'full'} run`);
  for (const f of files) {
    console.log(`\n# ${f.replace('.bench.js', '')}`);
    const mod = (await import(pathToFileURL(join(here, f)).href)) as { run: (c: BenchContext) => Promise<void> };
    await mod.run(ctx);
  }
  if (jsonFile) {
    writeFileSync(jsonFile, JSON.stringify(rows.map((r) => ({ name: r.name, unit: r.unit, value: r.value, ceiling: r.ceiling ?? null, ratio: r.ratio ?? null })), null, 2));
    console.log(`\nwrote ${rows.length} figures to ${jsonFile}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
