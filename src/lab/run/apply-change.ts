/**
 * Applies one NicChange to a running lab NIC: the one code path for `netvsc ethtool -G/-L`,
 * `link set`, and a scenario's timed events. Returns notes (what the driver adjusted); throws
 * UNSUPPORTED, naming the missing piece, for changes the lab cannot make yet.
 */
import { ConfigError } from '../../core/index.js';
import type { LabNic } from '../lab-vm.js';
import type { NicChange } from '../scenario/index.js';
import { changeUnsupported } from './unsupported.js';

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
    default:
      throw new ConfigError('UNSUPPORTED', `${nic.name}: ${c.action} is not supported`);
  }
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
