/**
 * What every command that talks to a running instance shares: the --json, --instance,
 * --socket and --timeout options, and turning them into a socket path and a call.
 */
import type { Command } from 'commander';
import { ConfigError } from '../core/index.js';
import { type ControlOp, type ControlResults, DEFAULT_INSTANCE, DEFAULT_TIMEOUT_MS, type RequestOf, callControl, controlSocketPath } from './control/index.js';

export interface ControlCliOptions {
  readonly json?: boolean;
  readonly instance?: string;
  readonly socket?: string;
  readonly timeout?: string;
}

/** Adds the shared options to a command. */
export function withControlOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print the result as JSON')
    .option('--instance <name>', 'the running instance to talk to', DEFAULT_INSTANCE)
    .option('--socket <path>', 'control socket path (overrides --instance and $NETVSC_SOCKET)')
    .option('--timeout <ms>', `how long to wait for an answer (default ${DEFAULT_TIMEOUT_MS})`);
}

/** Calls the instance the options name. */
export function call<O extends ControlOp>(o: ControlCliOptions, request: RequestOf<O>): Promise<ControlResults[O]> {
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (o.timeout !== undefined) {
    timeoutMs = Number(o.timeout);
    if (!/^\d{1,7}$/.test(o.timeout) || timeoutMs < 1) throw new ConfigError('BAD_CONFIG', `--timeout: must be a whole number of ms 1..9999999, got "${o.timeout}"`);
  }
  const path = o.socket ?? controlSocketPath(o.instance ?? DEFAULT_INSTANCE);
  return callControl(path, request, { timeoutMs });
}

/** Pretty JSON for --json: stable, two-space indented, one document per command. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, null, 2);
}
