#!/usr/bin/env node
/**
 * The `netvsc` command. Each subcommand lives in src/cli/commands/<name>.ts and exports
 * `register(program)`. User errors print one line and exit 2; no stack traces for them.
 */
import { Command, CommanderError } from 'commander';
import { isNetvscError } from '../core/index.js';
import { commands } from './commands/index.js';
import { NoInstanceError } from './control/index.js';

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('netvsc')
    .description('Hyper-V synthetic NIC: netvsc guest driver, emulated NetVSP host, VMBus in shared memory')
    .exitOverride()
    // Commander's own errors (unknown option, missing argument) get the same one-line form as ours.
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`netvsc: ${s.replace(/^error: /, '')}`),
    })
    .showHelpAfterError(false);
  for (const c of commands) c.register(program);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof NoInstanceError) {
      // Not a fault of anything that ran: say what to do instead of printing a code.
      process.stderr.write(`netvsc: ${e.message}\n`);
      return 2;
    }
    if (isNetvscError(e)) {
      process.stderr.write(`netvsc: ${e.code}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
