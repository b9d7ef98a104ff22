import type { Command } from 'commander';
import * as demo from './demo.js';

/** Every subcommand; each file exports register(program). */
export const commands: ReadonlyArray<{ register(program: Command): void }> = [demo];
