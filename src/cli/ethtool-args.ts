/**
 * `netvsc ethtool` arguments, with ethtool(8)'s option letters, long names and keywords:
 * `-G NIC rx N tx N`, `-L NIC combined N`, `-K NIC lro off gro on`, `-X NIC equal N | weight
 * W… | default [hkey K]`, `-N NIC rx-flow-hash udp4 sd|sdfn`, `-n NIC [rx-flow-hash udp4]`,
 * and the show options -i -S -g -l -k -x. Ranges are checked by readNicChange, the same check
 * the control socket and scenarios use, so the three accept exactly the same values.
 */
import { ConfigError } from '../core/index.js';
import { FLOW_TYPES, type FlowType, Issues, type NicChange, featureName, readNicChange } from '../lab/scenario/index.js';
import type { ControlRequest } from './control/protocol.js';

/** How a result is printed: one per ethtool show option, plus `rx-rings` for a bare -n and `change`. */
export type EthtoolShow = 'info' | 'stats' | 'rings' | 'channels' | 'features' | 'rxfh' | 'rx-flow-hash' | 'rx-rings' | 'change';

export interface EthtoolCommand {
  readonly request: ControlRequest;
  readonly show: EthtoolShow;
}

type Mode = 'i' | 'S' | 'g' | 'G' | 'l' | 'L' | 'k' | 'K' | 'x' | 'X' | 'n' | 'N';

/** Every spelling ethtool accepts for the operations netvsc implements. */
const OPTIONS: Readonly<Record<string, Mode>> = {
  '-i': 'i', '--driver': 'i',
  '-S': 'S', '--statistics': 'S',
  '-g': 'g', '--show-ring': 'g',
  '-G': 'G', '--set-ring': 'G',
  '-l': 'l', '--show-channels': 'l',
  '-L': 'L', '--set-channels': 'L',
  '-k': 'k', '--show-features': 'k', '--show-offload': 'k',
  '-K': 'K', '--features': 'K', '--offload': 'K',
  '-x': 'x', '--show-rxfh-indir': 'x', '--show-rxfh': 'x',
  '-X': 'X', '--set-rxfh-indir': 'X', '--rxfh': 'X',
  '-n': 'n', '-u': 'n', '--show-nfc': 'n', '--show-ntuple': 'n',
  '-N': 'N', '-U': 'N', '--config-nfc': 'N', '--config-ntuple': 'N',
};

const SHOW: Readonly<Record<'i' | 'S' | 'g' | 'l' | 'k' | 'x', { op: ControlRequest['op']; show: EthtoolShow }>> = {
  i: { op: 'ethtool.info', show: 'info' },
  S: { op: 'ethtool.stats', show: 'stats' },
  g: { op: 'ethtool.rings', show: 'rings' },
  l: { op: 'ethtool.channels', show: 'channels' },
  k: { op: 'ethtool.features', show: 'features' },
  x: { op: 'ethtool.rxfh', show: 'rxfh' },
};

export const ETHTOOL_USAGE = [
  'ethtool -i|-S|-g|-l|-k|-x NIC',
  'ethtool -G NIC [rx N] [tx N]',
  'ethtool -L NIC combined N',
  'ethtool -K NIC FEATURE on|off ...',
  'ethtool -X NIC [equal N | weight W0 W1 ... | default] [hkey xx:xx:...] [hfunc toeplitz]',
  'ethtool -n NIC [rx-flow-hash tcp4|tcp6|udp4|udp6]',
  'ethtool -N NIC rx-flow-hash tcp4|tcp6|udp4|udp6 sd|sdfn',
] as const;

/** Walks the words after the NIC, failing with the operation named in every message. */
class Words {
  private i = 0;
  constructor(
    private readonly words: readonly string[],
    readonly where: string,
  ) {}
  get done(): boolean {
    return this.i >= this.words.length;
  }
  peek(): string | undefined {
    return this.words[this.i];
  }
  next(what: string): string {
    const w = this.words[this.i++];
    if (w === undefined) throw this.error(`${what} is missing`);
    return w;
  }
  uint(key: string): number {
    const w = this.next(`the value of ${key}`);
    if (!/^\d{1,10}$/.test(w)) throw this.error(`${key}: must be a whole number, got "${w}"`);
    return Number(w);
  }
  error(message: string): ConfigError {
    return new ConfigError('BAD_CONFIG', `${this.where}: ${message}`);
  }
}

/** Parses the words after `netvsc ethtool` into the request to send and how to print the answer. */
export function parseEthtoolArgs(args: readonly string[]): EthtoolCommand {
  const [opt, nic, ...rest] = args;
  if (opt === undefined) throw new ConfigError('BAD_CONFIG', `ethtool: an option is required (${ETHTOOL_USAGE.join('; ')})`);
  const mode = OPTIONS[opt];
  if (!mode) {
    const hint = opt.startsWith('-') ? 'not an ethtool option netvsc implements' : 'give an option before the NIC (e.g. ethtool -S eth0)';
    throw new ConfigError('BAD_CONFIG', `ethtool: ${opt}: ${hint}; usage: ${ETHTOOL_USAGE.join('; ')}`);
  }
  if (nic === undefined || nic.startsWith('-')) throw new ConfigError('BAD_CONFIG', `ethtool ${opt}: a NIC name is required`);
  const w = new Words(rest, `ethtool ${opt} ${nic}`);
  switch (mode) {
    case 'i': case 'S': case 'g': case 'l': case 'k': case 'x': {
      if (!w.done) throw w.error(`unexpected "${w.peek()}"`);
      const s = SHOW[mode];
      return { request: { op: s.op, nic } as ControlRequest, show: s.show };
    }
    case 'n': {
      if (w.done) return { request: { op: 'ethtool.channels', nic }, show: 'rx-rings' };
      const flowType = readRxFlowHashType(w);
      if (!w.done) throw w.error(`unexpected "${w.peek()}"`);
      return { request: { op: 'ethtool.rx-flow-hash', nic, flowType }, show: 'rx-flow-hash' };
    }
    case 'G': return change(nic, w, parseRings(w));
    case 'L': return change(nic, w, parseChannels(w));
    case 'K': return change(nic, w, parseFeatures(w));
    case 'X': return change(nic, w, parseRxfh(w));
    case 'N': {
      const flowType = readRxFlowHashType(w);
      const fields = w.next('the hash fields (sd or sdfn)');
      if (fields !== 'sd' && fields !== 'sdfn') {
        throw w.error(`rx-flow-hash ${flowType}: hv_netvsc hashes "sd" (addresses) or "sdfn" (addresses and ports), not "${fields}"`);
      }
      if (!w.done) throw w.error(`unexpected "${w.peek()}"`);
      return change(nic, w, { action: 'rx-flow-hash', flowType, fields });
    }
  }
}

function readRxFlowHashType(w: Words): FlowType {
  const kw = w.next('rx-flow-hash');
  if (kw !== 'rx-flow-hash') throw w.error(`expected rx-flow-hash, got "${kw}" (hv_netvsc has no n-tuple filters)`);
  const t = w.next('the flow type');
  if (!(FLOW_TYPES as readonly string[]).includes(t)) throw w.error(`rx-flow-hash: flow type must be one of ${FLOW_TYPES.join(', ')}, got "${t}"`);
  return t as FlowType;
}

/** Runs the shared range checks on the assembled change; the first problem becomes the error. */
function change(nic: string, w: Words, raw: Record<string, unknown>): EthtoolCommand {
  const issues = new Issues();
  const c: NicChange | undefined = readNicChange(raw, '', issues);
  if (!c) throw w.error(issues.list.join('; '));
  return { request: { op: 'change', nic, change: c }, show: 'change' };
}

function parseRings(w: Words): Record<string, unknown> {
  const out: Record<string, unknown> = { action: 'rings' };
  if (w.done) throw w.error('give rx N, tx N or both');
  while (!w.done) {
    const k = w.next('a ring name');
    if (k === 'rx' || k === 'tx') out[k] = w.uint(k);
    else if (k === 'rx-mini' || k === 'rx-jumbo') throw w.error(`${k}: not supported by hv_netvsc (only rx and tx)`);
    else throw w.error(`unknown ring parameter "${k}" (rx, tx)`);
  }
  return out;
}

function parseChannels(w: Words): Record<string, unknown> {
  const out: Record<string, unknown> = { action: 'channels' };
  if (w.done) throw w.error('give combined N');
  while (!w.done) {
    const k = w.next('a channel type');
    if (k === 'combined') out['combined'] = w.uint(k);
    else if (k === 'rx' || k === 'tx' || k === 'other') {
      // The driver refuses separate rx/tx/other channels (protocol.md §6.4): only 0 is accepted.
      if (w.uint(k) !== 0) throw w.error(`${k}: hv_netvsc has combined channels only; use combined N`);
    } else throw w.error(`unknown channel type "${k}" (combined)`);
  }
  return out;
}

function parseFeatures(w: Words): Record<string, unknown> {
  const features: Record<string, boolean> = {};
  if (w.done) throw w.error('give FEATURE on|off');
  while (!w.done) {
    const k = w.next('a feature');
    if (!featureName(k)) throw w.error(`unknown feature "${k}" (see netvsc ethtool -k)`);
    const v = w.next(`on or off after ${k}`);
    if (v !== 'on' && v !== 'off') throw w.error(`${k}: must be on or off, got "${v}"`);
    features[k] = v === 'on';
  }
  return { action: 'features', features };
}

function parseRxfh(w: Words): Record<string, unknown> {
  const out: Record<string, unknown> = { action: 'rxfh' };
  if (w.done) throw w.error('give equal N, weight W..., default or hkey K');
  while (!w.done) {
    const k = w.next('a keyword');
    if (k === 'equal') out['equal'] = w.uint(k);
    else if (k === 'default') out['default'] = true;
    else if (k === 'hkey') out['hkey'] = w.next('the key');
    else if (k === 'weight') {
      const weights: number[] = [];
      while (!w.done && /^\d+$/.test(w.peek()!)) weights.push(w.uint('weight'));
      if (weights.length === 0) throw w.error('weight: give one weight per channel');
      out['weight'] = weights;
    } else if (k === 'hfunc') {
      const f = w.next('the hash function');
      if (f !== 'toeplitz') throw w.error(`hfunc: hv_netvsc hashes with toeplitz only, not "${f}"`);
    } else throw w.error(`unknown keyword "${k}" (equal, weight, default, hkey, hfunc)`);
  }
  return out;
}
