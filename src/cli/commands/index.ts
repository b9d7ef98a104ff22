import type { Command } from 'commander';
import * as demo from './demo.js';
import * as down from './down.js';
import * as ethtool from './ethtool.js';
import * as host from './host.js';
import * as link from './link.js';
import * as run from './run.js';
import * as stats from './stats.js';
import * as up from './up.js';
import * as vf from './vf.js';
import * as wire from './wire.js';

/** Every subcommand; each file exports register(program). */
export const commands: ReadonlyArray<{ register(program: Command): void }> = [demo, run, up, down, ethtool, link, vf, host, stats, wire];
