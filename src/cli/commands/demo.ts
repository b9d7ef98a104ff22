/**
 * `netvsc demo` (what `npm start` runs): an emulated Hyper-V host with two VMs, a mixed workload
 * and a ring change halfway, live progress, a summary table and an HTML report. --keep leaves it
 * running with the control socket open so `netvsc ethtool …` works against it.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/index.js';
import { HOST_PROFILE_NAMES } from '../../host/index.js';
import { checkProfile } from '../../lab/config.js';
import { labControlHandler } from '../../lab/index.js';
import { ControlServer, DEFAULT_INSTANCE, controlSocketPath, type ControlHandler } from '../control/index.js';
import { runDemo } from '../demo/run-demo.js';
import { untilStopped } from '../until-stopped.js';

interface DemoCliOptions {
  readonly profile: string;
  readonly duration: string;
  readonly report: string;
  readonly json?: boolean;
  readonly keep?: boolean;
  readonly instance: string;
  readonly socket?: string;
}

export const DEFAULT_DEMO_SECONDS = 10;

function readDuration(s: string): number {
  const v = Number(s);
  if (!/^\d+(\.\d+)?$/.test(s) || v < 0.5 || v > 3600) throw new ConfigError('BAD_CONFIG', `--duration: must be seconds 0.5..3600, got "${s}"`);
  return Math.round(v * 1000);
}

export async function demoCommand(o: DemoCliOptions): Promise<number> {
  const profile = checkProfile(o.profile, '--profile');
  const durationMs = readDuration(o.duration);
  const write = (s: string): void => void process.stdout.write(s);
  const out = await runDemo({ profile, durationMs, reportPath: o.report, json: o.json === true, keep: o.keep === true, tty: process.stdout.isTTY === true, write });
  if (out.run) {
    const path = o.socket ?? controlSocketPath(o.instance);
    const handler: ControlHandler = labControlHandler(out.run);
    const server = await ControlServer.listen(path, handler);
    process.stderr.write(`netvsc demo: kept running; control socket ${path}\n  try: netvsc ethtool -S nic0 · netvsc ethtool -g nic1 · netvsc stats · Ctrl-C to stop\n`);
    await untilStopped();
    await server.close();
    await out.run.close();
  }
  return out.result.passed ? 0 : 1;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the end-to-end demo: emulated Hyper-V host, two VMs, mixed workload, live progress, summary and HTML report')
    .option('--profile <name>', `host profile (${HOST_PROFILE_NAMES.join(', ')})`, 'azure')
    .option('--duration <seconds>', 'how long the workload runs', String(DEFAULT_DEMO_SECONDS))
    .option('--report <path>', 'where to write the HTML report', 'reports/netvsc-demo.html')
    .option('--json', 'print the final summary as JSON (no live view)')
    .option('--keep', 'keep running afterwards with the control socket open (Ctrl-C to stop)')
    .option('--instance <name>', 'control socket instance name for --keep', DEFAULT_INSTANCE)
    .option('--socket <path>', 'control socket path for --keep')
    .action(async (o: DemoCliOptions) => {
      process.exitCode = await demoCommand(o);
    });
}
