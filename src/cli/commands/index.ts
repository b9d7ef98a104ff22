import type { Command } from 'commander';
import * as demo from './demo.js';
import * as wire from './wire.js';

/** Every subcommand; each file exports register(program). */
export const commands: ReadonlyArray<{ register(program: Command): void }> = [demo, wire];
