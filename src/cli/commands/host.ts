import type { Command } from 'commander';
import { type ControlCliOptions, call, toJson, withControlOptions } from '../control-command.js';
import { formatHost } from '../host-format.js';

/** `netvsc host`: host profile and what each NIC negotiated. */
export async function hostCommand(o: ControlCliOptions): Promise<string> {
  const r = await call(o, { op: 'host' });
  return o.json ? toJson(r) : formatHost(r);
}

export function register(program: Command): void {
  withControlOptions(program.command('host').description('show the host profile of a running instance and the versions and offloads each NIC negotiated')).action(
    async (o: ControlCliOptions) => console.log(await hostCommand(o)),
  );
}
