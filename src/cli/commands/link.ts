import type { Command } from 'commander';
import { ConfigError } from '../../core/index.js';
import { Issues, type NicChange, readNicChange } from '../../lab/scenario/index.js';
import { type ControlCliOptions, call, toJson, withControlOptions } from '../control-command.js';


/** `up`, `down`, `mtu N` in ip-link order: the MTU first, then the link state. */
export function parseLinkSet(words: readonly string[]): NicChange[] {
  const raw: Record<string, unknown>[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'up' || w === 'down') raw.push({ action: 'link', state: w });
    else if (w === 'mtu') {
      const v = words[++i];
      if (v === undefined || !/^\d{1,6}$/.test(v)) throw new ConfigError('BAD_CONFIG', `link set: mtu: must be a whole number, got ${v === undefined ? 'nothing' : `"${v}"`}`);
      raw.unshift({ action: 'mtu', mtu: Number(v) });
    } else throw new ConfigError('BAD_CONFIG', `link set: unknown word "${w}" (up, down, mtu N)`);
  }
  if (raw.length === 0) throw new ConfigError('BAD_CONFIG', 'link set: give up, down or mtu N');
  return raw.map((r) => {
    const issues = new Issues();
    const c = readNicChange(r, '', issues);
    if (!c) throw new ConfigError('BAD_CONFIG', `link set: ${issues.list.join('; ')}`);
    return c;
  });
}

/** `netvsc link set NIC up|down|mtu N`: applies each change in order. */
export async function linkSetCommand(nic: string, words: readonly string[], o: ControlCliOptions): Promise<string> {
  const changes = parseLinkSet(words);
  const notes: string[] = [];
  for (const change of changes) notes.push(...(await call(o, { op: 'change', nic, change })).notes);
  return o.json ? toJson({ notes }) : notes.join('\n');
}

export function register(program: Command): void {
  const link = program.command('link').description('link state and MTU of a NIC of a running instance (like ip link)');
  withControlOptions(
    link
      .command('set')
      .description('set a NIC up or down, or change its MTU')
      .argument('<nic>', 'NIC name')
      .argument('<words...>', 'up | down | mtu N'),
  ).action(async (nic: string, words: string[], o: ControlCliOptions) => {
    const text = await linkSetCommand(nic, words, o);
    if (text) console.log(text);
  });
}
