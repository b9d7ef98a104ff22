/**
 * The lab's side of the CLI's control socket: one method per op, answered from a running
 * ScenarioRun's NICs (the demo with --keep). The result shapes are cli/control/protocol.ts's
 * (the lab may not import the CLI, so they are checked structurally where the CLI serves this
 * handler). Every answer is read from the running system at the time of the call, and every
 * change goes through applyChange, the same path scenario events take.
 */
import { ConfigError } from '../core/index.js';
import type { FlowType, NicChange } from './scenario/index.js';
import { FEATURE_NAMES } from './scenario/index.js';
import type { LabNic } from './lab-vm.js';
import { applyChange, featureStates } from './run/apply-change.js';
import { snapshotNic } from './run/nic-snapshot.js';
import type { ScenarioRun } from './scenario-runner.js';

const CSUM_TCP4 = 0x1;
const CSUM_UDP4 = 0x2;
const CSUM_TCP6 = 0x10;
const CSUM_UDP6 = 0x20;

export function labControlHandler(run: Pick<ScenarioRun, 'lab' | 'nics'>) {
  const started = performance.now();
  const nic = (name: string): LabNic => {
    const n = run.nics.get(name);
    if (!n) throw new ConfigError('BAD_CONFIG', `no NIC '${name}' (have: ${[...run.nics.keys()].join(', ')})`);
    return n;
  };
  return {
    async 'ethtool.info'(r: { readonly nic: string }) {
      const v = (await nic(r.nic).ethtool()).drvinfo;
      return { driver: v.driver, version: `nvsp ${v.nvspVersion.toString(16)} ndis ${v.ndisVersion}`, firmwareVersion: v.firmware, busInfo: `vmbus:${nic(r.nic).vm.name}/${r.nic}` };
    },
    async 'ethtool.stats'(r: { readonly nic: string }) {
      const s = await nic(r.nic).stats();
      return { stats: Object.entries(s.guest.ethtool).map(([name, value]) => ({ name, value })) };
    },
    async 'ethtool.rings'(r: { readonly nic: string }) {
      const g = (await nic(r.nic).ethtool()).ringparam;
      return { rxMax: g.rxMaxPending, txMax: g.txMaxPending, rx: g.rxPending, tx: g.txPending };
    },
    async 'ethtool.channels'(r: { readonly nic: string }) {
      return { ...(await nic(r.nic).ethtool()).channels };
    },
    async 'ethtool.features'(r: { readonly nic: string }) {
      // Read from the running driver: gro/lro switch (lro only where the host offers RSC); the
      // rest were negotiated with the host at attach and are shown [fixed].
      const st = await featureStates(nic(r.nic));
      return { features: FEATURE_NAMES.map((name) => ({ name, on: st[name].on, fixed: !st[name].changeable })) };
    },
    async 'ethtool.rxfh'(r: { readonly nic: string }) {
      const v = await nic(r.nic).ethtool();
      return { rings: v.channels.combined, indirection: [...v.rxfh.indir], hkey: [...v.rxfh.key], hfunc: v.rxfh.hfunc };
    },
    async 'ethtool.rx-flow-hash'(r: { readonly nic: string; readonly flowType: FlowType }) {
      return { flowType: r.flowType, fields: (await nic(r.nic).switches()).flowHash[r.flowType] };
    },
    async change(r: { readonly nic: string; readonly change: NicChange }) {
      return { notes: await applyChange(nic(r.nic), r.change) };
    },
    async host() {
      const p = run.lab.profile;
      const nics = await Promise.all(
        [...run.nics.values()].map(async (n) => {
          const [s, v] = await Promise.all([snapshotNic(n), n.ethtool()]);
          const m = v.features.txCsumMask;
          const csum = [[CSUM_TCP4, 'tcp4'], [CSUM_UDP4, 'udp4'], [CSUM_TCP6, 'tcp6'], [CSUM_UDP6, 'udp6']] as const;
          return {
            name: s.name,
            vm: s.vm,
            mac: s.mac,
            nvspVersion: s.nvspVersion,
            ndisVersion: s.ndisVersion,
            queues: s.queues.length,
            mtu: s.mtu,
            link: s.link,
            vf: s.vf,
            checksumOffload: csum.filter(([bit]) => (m & bit) !== 0).map(([, name]) => name),
            lso: v.features.tso4 || v.features.tso6,
            rsc: v.features.lro,
          };
        }),
      );
      return { profile: p.name, title: p.title, maxNvspVersion: p.maxNvspVersion, ndisVersion: p.ndisVersion, maxQueues: p.maxQueues, udpHash4Tuple: p.udpHash4Tuple, sriov: p.sriov, rsc: p.rsc, nics };
    },
    async stats() {
      const snaps = await Promise.all([...run.nics.values()].map(snapshotNic));
      return {
        uptimeMs: Math.round(performance.now() - started),
        nics: snaps.map((s) => ({ name: s.name, vm: s.vm, link: s.link, dataPath: s.dataPath, rxPackets: s.rxPackets, rxBytes: s.rxBytes, txPackets: s.txPackets, txBytes: s.txBytes, drops: s.drops, queues: s.queues })),
      };
    },
  };
}
