import type { Command } from 'commander';
import { type ControlCliOptions, call, toJson, withControlOptions } from '../control-command.js';

export interface VfOptions extends ControlCliOptions {
  readonly surprise?: boolean;
}

/** `netvsc vf add|remove NIC [--surprise]`: the host assigns or takes away the NIC's SR-IOV VF. */
export async function vfCommand(action: 'add' | 'remove', nic: string, o: VfOptions): Promise<string> {
  const change = action === 'add' ? ({ action: 'vf-add' } as const) : ({ action: 'vf-remove', surprise: o.surprise ?? false } as const);
  const r = await call(o, { op: 'change', nic, change });
  return o.json ? toJson(r) : r.notes.join('\n');
}

export function register(program: Command): void {
  const vf = program.command('vf').description('add or remove the SR-IOV virtual function of a NIC of a running instance');
  withControlOptions(vf.command('add').description('the host assigns a VF to the NIC').argument('<nic>', 'NIC name')).action(
    async (nic: string, o: VfOptions) => {
      const text = await vfCommand('add', nic, o);
      if (text) console.log(text);
    },
  );
  withControlOptions(
    vf
      .command('remove')
      .description('the host takes the VF away (switching the data path back first, unless --surprise)')
      .argument('<nic>', 'NIC name')
      .option('--surprise', 'surprise removal: the VF vanishes without the switch back'),
  ).action(async (nic: string, o: VfOptions) => {
    const text = await vfCommand('remove', nic, o);
    if (text) console.log(text);
  });
}
