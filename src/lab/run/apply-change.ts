/**
 * Applies one NicChange to a running lab NIC: the one code path for `netvsc ethtool -G/-L`,
 * `link set`, and a scenario's timed events. Returns notes (what the driver adjusted); throws
 * UNSUPPORTED, naming the missing piece, for changes the lab cannot make yet.
 */
import { ConfigError } from '../../core/index.js';
import type { LabNic } from '../lab-vm.js';
import type { FeatureName, NicChange } from '../scenario/index.js';
import { changeUnsupported } from './unsupported.js';
import { addVf, removeVf } from './vf-change.js';

export async function applyChange(nic: LabNic, c: NicChange): Promise<string[]> {
  const why = changeUnsupported(c);
  if (why) throw new ConfigError('UNSUPPORTED', `${nic.name}: ${why}`);
  const notes: string[] = [];
  switch (c.action) {
    case 'rings': {
      const info = await nic.setRing({ ...(c.rx !== undefined ? { rx: c.rx } : {}), ...(c.tx !== undefined ? { tx: c.tx } : {}) });
      // The driver clamps to what the negotiated section sizes allow (as Linux does): say so.
      if (c.rx !== undefined && info.rxSections !== c.rx) notes.push(`rx clamped to ${info.rxSections}`);
      if (c.tx !== undefined && info.txSections !== c.tx) notes.push(`tx clamped to ${info.txSections}`);
      return notes;
    }
    case 'channels': {
      const info = await nic.setChannels(c.combined);
      if (info.queues !== c.combined) notes.push(`the host granted ${info.queues} channel(s)`);
      return notes;
    }
    case 'mtu':
      await nic.setMtu(c.mtu);
      return notes;
    case 'link': {
      await nic.setLink(c.state === 'up');
      // The host's indication reaches the guest through its receive path: wait until it did.
      const want = c.state === 'up';
      await nic.vm.lab.waitFor(`${nic.name} to see link ${c.state}`, async () => (await nic.refresh()).linkUp === want, 5000);
      return notes;
    }
    case 'vf-add':
      return addVf(nic);
    case 'vf-remove':
      return removeVf(nic, c.surprise);
    case 'rxfh':
      await applyRxfh(nic, c);
      return notes;
    case 'rx-flow-hash':
      await nic.setRxFlowHash(c.flowType, c.fields);
      return notes;
    case 'features':
      return applyFeatures(nic, c.features);
  }
}

/** The features -K can switch on a netvsc NIC here, by the driver call that switches them. */
const SWITCHABLE = { 'generic-receive-offload': 'gro', 'large-receive-offload': 'lro' } as const;

/**
 * ethtool -K: gro and lro go to the driver; every other feature is fixed (negotiated with the
 * host at attach), so asking for a different value is refused naming it, and asking for the
 * value it already has is a no-op (what ethtool does for a fixed feature left as it is).
 */
async function applyFeatures(nic: LabNic, f: Readonly<Partial<Record<FeatureName, boolean>>>): Promise<string[]> {
  const now = await featureStates(nic);
  const req: { gro?: boolean; lro?: boolean } = {};
  const fixed: string[] = [];
  for (const [name, on] of Object.entries(f) as [FeatureName, boolean][]) {
    const sw = (SWITCHABLE as Partial<Record<FeatureName, 'gro' | 'lro'>>)[name];
    if (sw) req[sw] = on;
    else if (now[name].on !== on) fixed.push(name);
  }
  if (fixed.length > 0) throw new ConfigError('UNSUPPORTED', `${nic.name}: ${fixed.join(', ')} ${fixed.length > 1 ? 'are' : 'is'} fixed (negotiated with the host at attach; ethtool -k shows [fixed])`);
  if (req.lro === true && !now['large-receive-offload'].changeable) throw new ConfigError('UNSUPPORTED', `${nic.name}: large-receive-offload is fixed off (the host offers no RSC)`);
  if (req.lro !== undefined && !now['large-receive-offload'].changeable) delete req.lro;
  if (req.gro !== undefined || req.lro !== undefined) await nic.setFeatures(req);
  return [];
}

/** Every feature's state and whether -K can change it, read from the running driver. */
export async function featureStates(nic: LabNic): Promise<Record<FeatureName, { on: boolean; changeable: boolean }>> {
  const [v, sw] = await Promise.all([nic.ethtool(), nic.switches()]);
  const f = v.features;
  const fixed = (on: boolean) => ({ on, changeable: false });
  return {
    'rx-checksumming': fixed(true),
    'tx-checksumming': fixed(f.txCsumMask !== 0),
    'scatter-gather': fixed(true),
    'tcp-segmentation-offload': fixed(f.tso4 || f.tso6),
    'generic-segmentation-offload': fixed(true),
    'generic-receive-offload': { on: sw.gro, changeable: true },
    // Switchable only where the host offers RSC (NVSP 6.1 hosts with RSC caps).
    'large-receive-offload': { on: sw.lro, changeable: f.lro },
    'rx-vlan-offload': fixed(true),
    'tx-vlan-offload': fixed(true),
    'receive-hashing': fixed(v.channels.combined > 1),
  };
}

/**
 * ethtool -X: equal N spreads the table over queues 0..N-1; weight gives queue i a share of the
 * entries proportional to weight[i]; default = equal over every channel; hkey sets the key.
 */
async function applyRxfh(nic: LabNic, c: Extract<NicChange, { action: 'rxfh' }>): Promise<void> {
  const v = await nic.ethtool();
  const queues = v.channels.combined;
  const size = v.rxfh.indir.length;
  if (size === 0 || queues < 2) throw new ConfigError('BAD_CONFIG', `${nic.name}: rxfh: RSS needs more than one channel (have ${queues})`);
  let indir: number[] | undefined;
  if (c.equal !== undefined || c.default) {
    const n = c.equal ?? queues;
    if (n > queues) throw new ConfigError('BAD_CONFIG', `${nic.name}: rxfh equal ${n}: only ${queues} channel(s)`);
    indir = Array.from({ length: size }, (_, i) => i % n);
  } else if (c.weight) indir = weightedTable(nic.name, c.weight, queues, size);
  await nic.setRxfh({ ...(indir ? { indir } : {}), ...(c.hkey ? { key: c.hkey } : {}) });
}

/** Entries [floor(W_<i · size / W), floor(W_≤i · size / W)) go to queue i (W = the weights' sum). */
export function weightedTable(nicName: string, weight: readonly number[], queues: number, size: number): number[] {
  if (weight.length > queues) throw new ConfigError('BAD_CONFIG', `${nicName}: rxfh weight: ${weight.length} weights for ${queues} channel(s)`);
  const total = weight.reduce((a, w) => a + w, 0);
  const out = new Array<number>(size);
  let cum = 0;
  for (let q = 0; q < weight.length; q++) {
    const from = Math.floor((cum * size) / total);
    cum += weight[q]!;
    const to = Math.floor((cum * size) / total);
    for (let j = from; j < to; j++) out[j] = q;
  }
  return out;
}

/** A short human label for a change ("ethtool -G rx 512", "link down"). */
export function describeChange(c: NicChange): string {
  switch (c.action) {
    case 'rings':
      return `ethtool -G${c.rx !== undefined ? ` rx ${c.rx}` : ''}${c.tx !== undefined ? ` tx ${c.tx}` : ''}`;
    case 'channels':
      return `ethtool -L combined ${c.combined}`;
    case 'mtu':
      return `mtu ${c.mtu}`;
    case 'link':
      return `link ${c.state}`;
    case 'vf-add':
      return 'vf add';
    case 'vf-remove':
      return c.surprise ? 'vf remove (surprise)' : 'vf remove';
    case 'rxfh':
      return 'ethtool -X';
    case 'features':
      return `ethtool -K ${Object.entries(c.features).map(([k, v]) => `${k} ${v ? 'on' : 'off'}`).join(' ')}`;
    case 'rx-flow-hash':
      return `ethtool -N rx-flow-hash ${c.flowType} ${c.fields}`;
  }
}
