import type { Command } from 'commander';
import type {
  ChangeResult, ChannelParams, DriverInfo, FeatureList, NicStatistics, RingParams, RxFlowHashSettings, RxfhSettings,
} from '../control/index.js';
import { type ControlCliOptions, call, toJson, withControlOptions } from '../control-command.js';
import { ETHTOOL_USAGE, type EthtoolCommand, parseEthtoolArgs } from '../ethtool-args.js';
import {
  formatChannels, formatDriverInfo, formatFeatures, formatRings, formatRxFlowHash, formatRxRings, formatRxfh, formatStatistics,
} from '../ethtool-format.js';

/** Prints a result as ethtool would; a change prints only the driver's notes, as ethtool prints nothing. */
function format(cmd: EthtoolCommand, r: unknown): string {
  const nic = 'nic' in cmd.request ? cmd.request.nic : '';
  switch (cmd.show) {
    case 'info': return formatDriverInfo(r as DriverInfo);
    case 'stats': return formatStatistics(r as NicStatistics);
    case 'rings': return formatRings(nic, r as RingParams);
    case 'channels': return formatChannels(nic, r as ChannelParams);
    case 'features': return formatFeatures(nic, r as FeatureList);
    case 'rxfh': return formatRxfh(nic, r as RxfhSettings);
    case 'rx-flow-hash': return formatRxFlowHash(r as RxFlowHashSettings);
    case 'rx-rings': return formatRxRings(r as ChannelParams);
    case 'change': return (r as ChangeResult).notes.join('\n');
  }
}

/** `netvsc ethtool ARGS…`: the text (or JSON) to print. */
export async function ethtoolCommand(args: readonly string[], o: ControlCliOptions): Promise<string> {
  const cmd = parseEthtoolArgs(args);
  const r: unknown = await call(o, cmd.request);
  return o.json ? toJson(r) : format(cmd, r);
}

export function register(program: Command): void {
  withControlOptions(
    program
      .command('ethtool')
      .description('query or change a NIC of a running instance, with ethtool(8) options')
      .argument('<args...>', 'ethtool options, e.g. -S eth0 or -G eth0 rx 1024')
      .allowUnknownOption()
      .addHelpText('after', `\nForms:\n${ETHTOOL_USAGE.map((u) => `  netvsc ${u}`).join('\n')}\n`),
  ).action(async (args: string[], o: ControlCliOptions) => {
    const text = await ethtoolCommand(args, o);
    if (text) console.log(text);
  });
}
