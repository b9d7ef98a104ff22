// ethtool / link / vf / host / stats run through main() against a control server whose handler
// is a small fake NIC in this file: set commands change what the show commands then print.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { ConfigError } from '../../core/index.js';
import type { NicChange } from '../../lab/scenario/index.js';
import { ControlServer, type ControlHandler, type HostInfo, type StatsSummary } from '../control/index.js';
import { main } from '../main.js';

interface FakeNic { rx: number; tx: number; combined: number; lro: boolean; mtu: number; link: 'up' | 'down'; vf: 'none' | 'present' | 'active'; table: number[]; udp4: 'sd' | 'sdfn' }
const nic: FakeNic = { rx: 9709, tx: 170, combined: 4, lro: true, mtu: 1500, link: 'up', vf: 'active', table: [], udp4: 'sdfn' };
const changes: NicChange[] = [];
const equalTable = (n: number) => Array.from({ length: 16 }, (_, i) => i % n);
nic.table = equalTable(4);

const known = (name: string) => {
  if (name !== 'eth0') throw new ConfigError('BAD_CONFIG', `no NIC named '${name}'`);
};
const host: HostInfo = {
  profile: 'azure', title: 'Azure', maxNvspVersion: 0x60001, ndisVersion: 0x6001e, maxQueues: 64, udpHash4Tuple: false, sriov: true, rsc: true,
  nics: [{ name: 'eth0', vm: 'vm1', mac: '00:15:5d:00:00:00', nvspVersion: 0x60001, ndisVersion: 0x6001e, queues: 4, mtu: 1500, link: 'up', vf: 'active', checksumOffload: ['tcp4', 'udp4', 'tcp6', 'udp6'], lso: true, rsc: true }],
};
const handler: ControlHandler = {
  'ethtool.info': async (r) => (known(r.nic), { driver: 'hv_netvsc', version: '0.1.0', firmwareVersion: 'N/A', busInfo: 'f8615163-0000-1000-8001-00155d000000' }),
  'ethtool.stats': async (r) => (known(r.nic), { stats: [{ name: 'tx_send_full', value: 3 }, { name: 'vf_rx_packets', value: 12 }] }),
  'ethtool.rings': async (r) => (known(r.nic), { rxMax: 18811, txMax: 2560, rx: nic.rx, tx: nic.tx }),
  'ethtool.channels': async (r) => (known(r.nic), { maxCombined: 8, combined: nic.combined }),
  'ethtool.features': async (r) => (known(r.nic), { features: [{ name: 'large-receive-offload', on: nic.lro, fixed: false }, { name: 'rx-vlan-offload', on: true, fixed: true }] }),
  'ethtool.rxfh': async (r) => (known(r.nic), { rings: nic.combined, indirection: nic.table, hkey: [1, 2, 255], hfunc: 'toeplitz' }),
  'ethtool.rx-flow-hash': async (r) => (known(r.nic), { flowType: r.flowType, fields: r.flowType === 'udp4' ? nic.udp4 : 'sdfn' }),
  change: async (r) => {
    known(r.nic);
    const c = r.change;
    changes.push(c);
    switch (c.action) {
      case 'rings': nic.rx = c.rx ?? nic.rx; nic.tx = c.tx ?? nic.tx; return { notes: [] };
      case 'channels':
        if (c.combined > 8) throw new ConfigError('BAD_CONFIG', `combined ${c.combined} is more than the 8 channels the host granted`);
        nic.combined = c.combined; nic.table = equalTable(c.combined); return { notes: [] };
      case 'features': nic.lro = c.features['large-receive-offload'] ?? nic.lro; return { notes: [] };
      case 'rx-flow-hash': if (c.flowType === 'udp4') nic.udp4 = c.fields; return { notes: [] };
      case 'mtu': nic.mtu = c.mtu; return { notes: [`mtu ${c.mtu}: NIC detached and re-attached`] };
      case 'link': nic.link = c.state; return { notes: [] };
      case 'vf-remove': nic.vf = 'none'; return { notes: [c.surprise ? 'VF surprise-removed' : 'data path switched to synthetic; VF removed'] };
      default: return { notes: [] };
    }
  },
  host: async () => host,
  stats: async (): Promise<StatsSummary> => ({
    uptimeMs: 12_345,
    nics: [{ name: 'eth0', vm: 'vm1', link: nic.link, dataPath: 'vf', rxPackets: 10, rxBytes: 1000, txPackets: 20, txBytes: 2000, drops: { tx_no_space: 2, rx_no_memory: 0 }, queues: [{ queue: 0, rxPackets: 6, rxBytes: 600, txPackets: 20, txBytes: 2000 }, { queue: 1, rxPackets: 4, rxBytes: 400, txPackets: 0, txBytes: 0 }] }],
  }),
};

let dir: string;
let sock: string;
let server: ControlServer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netvsc-cmd-'));
  sock = join(dir, 'i.sock');
  server = await ControlServer.listen(sock, handler);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(console, 'log').mockImplementation((s: unknown) => void (out += `${String(s)}\n`));
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, out, err };
}
const on = (...a: string[]) => run([...a, '--socket', sock]);

describe('netvsc ethtool against a running instance', () => {
  test('-S prints NIC statistics like ethtool', async () => {
    expect(await on('ethtool', '-S', 'eth0')).toEqual({ code: 0, out: 'NIC statistics:\n     tx_send_full: 3\n     vf_rx_packets: 12\n', err: '' });
  });

  test('-G changes what -g then prints; --json gives the result object', async () => {
    expect((await on('ethtool', '-G', 'eth0', 'rx', '1024')).code).toBe(0);
    const g = await on('ethtool', '-g', 'eth0');
    expect(g.out).toContain('Current hardware settings:\nRX:\t\t1024\n');
    const j = await on('ethtool', '-g', 'eth0', '--json');
    expect(JSON.parse(j.out)).toEqual({ rxMax: 18811, txMax: 2560, rx: 1024, tx: 170 });
  });

  test('-L changes the channel count and the -x table follows', async () => {
    expect((await on('ethtool', '-L', 'eth0', 'combined', '2')).code).toBe(0);
    expect((await on('ethtool', '-l', 'eth0')).out).toMatch(/Current hardware settings:\n(.*\n){3}Combined:\t2\n$/);
    const x = await on('ethtool', '-x', 'eth0');
    expect(x.out.split('\n').slice(0, 2)).toEqual(['RX flow hash indirection table for eth0 with 2 RX ring(s):', '    0:      0     1     0     1     0     1     0     1']);
    expect(x.out).toContain('RSS hash key:\n01:02:ff\n');
    expect((await on('ethtool', '-n', 'eth0')).out).toBe('2 RX rings available\n');
  });

  test('-K lro off shows in -k; -N udp4 sd shows in -n', async () => {
    await on('ethtool', '-K', 'eth0', 'lro', 'off');
    expect((await on('ethtool', '-k', 'eth0')).out).toBe('Features for eth0:\nlarge-receive-offload: off\nrx-vlan-offload: on [fixed]\n');
    await on('ethtool', '-N', 'eth0', 'rx-flow-hash', 'udp4', 'sd');
    expect((await on('ethtool', '-n', 'eth0', 'rx-flow-hash', 'udp4')).out).toBe('UDP over IPV4 flows use these fields for computing Hash flow key:\nIP SA\nIP DA\n');
    expect(changes).toContainEqual({ action: 'rx-flow-hash', flowType: 'udp4', fields: 'sd' });
  });

  test('-i prints the driver block', async () => {
    const r = await on('ethtool', '-i', 'eth0');
    expect(r.out.split('\n').slice(0, 3)).toEqual(['driver: hv_netvsc', 'version: 0.1.0', 'firmware-version: N/A']);
  });

  test('a value the device refuses and an unknown NIC are one line, exit 2', async () => {
    expect(await on('ethtool', '-L', 'eth0', 'combined', '16')).toEqual({ code: 2, out: '', err: 'netvsc: BAD_CONFIG: combined 16 is more than the 8 channels the host granted\n' });
    expect(await on('ethtool', '-S', 'eth9')).toEqual({ code: 2, out: '', err: "netvsc: BAD_CONFIG: no NIC named 'eth9'\n" });
  });

  test('bad arguments fail before anything is sent', async () => {
    const before = changes.length;
    expect(await on('ethtool', '-G', 'eth0', 'rx', 'lots')).toEqual({ code: 2, out: '', err: 'netvsc: BAD_CONFIG: ethtool -G eth0: rx: must be a whole number, got "lots"\n' });
    expect(changes.length).toBe(before);
  });
});

describe('netvsc link, vf, host, stats', () => {
  test('link set mtu 9000 down applies the MTU, then the state, and prints the notes', async () => {
    const r = await on('link', 'set', 'eth0', 'down', 'mtu', '9000');
    expect(r).toEqual({ code: 0, out: 'mtu 9000: NIC detached and re-attached\n', err: '' });
    expect(changes.slice(-2)).toEqual([{ action: 'mtu', mtu: 9000 }, { action: 'link', state: 'down' }]);
    expect((await on('link', 'set', 'eth0', 'mtu', '20')).err).toBe('netvsc: BAD_CONFIG: link set: mtu: must be an integer 68..65521, got 20\n');
    expect((await on('link', 'set', 'eth0', 'sideways')).err).toBe('netvsc: BAD_CONFIG: link set: unknown word "sideways" (up, down, mtu N)\n');
  });

  test('vf remove --surprise sends a surprise removal; --json prints the result', async () => {
    const r = await on('vf', 'remove', 'eth0', '--surprise', '--json');
    expect(JSON.parse(r.out)).toEqual({ notes: ['VF surprise-removed'] });
    expect(changes.at(-1)).toEqual({ action: 'vf-remove', surprise: true });
    await on('vf', 'add', 'eth0');
    expect(changes.at(-1)).toEqual({ action: 'vf-add' });
  });

  test('host prints the profile and negotiated versions', async () => {
    const r = await on('host');
    expect(r.out).toMatch(/^Host profile: azure \(Azure\)\nNVSP up to 6\.1, NDIS 6\.30, up to 64 queue\(s\) per NIC\n/);
    expect(r.out).toMatch(/eth0 +vm1 +00:15:5d:00:00:00 +6\.1 +6\.30 +4 +1500 +up +active +tcp4,udp4,tcp6,udp6 +yes +yes/);
    expect(JSON.parse((await on('host', '--json')).out)).toEqual(host);
  });

  test('stats prints per-NIC totals, per-queue rows and non-zero drops', async () => {
    const r = await on('stats');
    expect(r.out).toContain('Uptime 12.3 s');
    expect(r.out).toMatch(/eth0 +vm1 +down +vf +10 +1000 +20 +2000 +2\n/);
    expect(r.out).toMatch(/eth0 queues:\nQUEUE +RX PKTS +RX BYTES +TX PKTS +TX BYTES\n +0 +6 +600 +20 +2000\n +1 +4 +400 +0 +0\n/);
    expect(r.out).toContain('eth0 drops: tx_no_space=2\n');
  });
});

describe('errors and help', () => {
  test('no instance: one line saying how to start one, exit 2', async () => {
    const r = await run(['stats', '--socket', join(dir, 'none.sock')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^netvsc: no running instance \(start one with netvsc up or netvsc demo --keep\); looked for .*none\.sock\n$/);
  });

  test('unknown flags and missing arguments: one line, exit 2, no stack', async () => {
    for (const args of [['host', '--bogus'], ['vf', 'add'], ['link', 'set', 'eth0'], ['stats', '--timeout', 'soon', '--socket', sock], ['nosuch']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/^netvsc: [^\n]+\n$/);
    }
  });

  test.each([['ethtool'], ['link', 'set'], ['vf', 'add'], ['vf', 'remove'], ['host'], ['stats']])('%s --help prints usage and exits 0', async (...cmd) => {
    const r = await run([...cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: netvsc ${cmd.join(' ')} `));
    expect(r.out).toContain('--json');
  });
});
