// The uplink as an 802.1Q trunk with the real Linux stack (root): `up` with 2 VMs, vm0's NIC an
// access port on VLAN 10, vm1's on the untagged network, the uplink a trunk carrying 10
// (--uplink-vlan trunk:10). This kernel has no 8021q module (no VLAN subinterface can be made in
// the uplink namespace), so tcpdump on the uplink TAP shows what the kernel got: vm0's ARP and
// ICMP carry VLAN 10, vm1's frames none. The other way a raw AF_PACKET socket on the uplink TAP
// writes tagged frames: VLAN 10 reaches vm0 untagged (and its echo reply comes back tagged),
// VLAN 20 is refused by the switch (vlan_dropped). Then the same through the CLI: `netvsc up
// --detach --uplink-vlan trunk:10 --nic-vlan nic0=access:10`.
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Netns, runCommand } from '../../src/io/index.js';
import { tapUp, type TapLab } from '../../src/lab/tap/index.js';
import { pidAlive } from '../../src/cli/commands/up.js';
import { netnsCanRun, tapLabTeardown, testPrefix } from '../harness/netns-guard.js';

const run = netnsCanRun('e2e uplink VLAN trunk', { needsTap: true, tools: ['ping', 'tcpdump', 'tshark', 'python3'] });
const dir = mkdtempSync(join(tmpdir(), 'nvsc-upv-'));
const prefix = testPrefix('u');
const stateFile = join(dir, 'state.json');
const SUBNET = '10.83.0';
const UPLINK_IP = `${SUBNET}.254`;
/** The station the raw socket pretends to be, behind the uplink (vm0 is told its MAC). */
const FAKE_MAC = '02:00:00:83:00:fe';
const FAKE_IP = `${SUBNET}.200`;

/** Lines of tshark fields for the frames of `pcap` matching `filter`. */
async function fields(pcap: string, filter: string, ...f: string[]): Promise<string[]> {
  const r = await runCommand(['tshark', '-n', '-r', pcap, '-Y', filter, '-T', 'fields', ...f.flatMap((x) => ['-e', x])], 60_000);
  if (r.code !== 0) throw new Error(`tshark -r ${pcap} -Y ${filter}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

/**
 * Python that writes Ethernet frames to `ifName` through AF_PACKET: each argument is a VLAN id,
 * an ICMP echo request from FAKE_MAC/FAKE_IP to `dstMac`/`dstIp` tagged with it (priority 3).
 * (A cut-short tag cannot be sent this way: this kernel, 6.18, refuses it with EINVAL, so only the
 * unit test, src/lab/tap/uplink-port.test.ts, covers rx_bad_vlan.)
 */
function rawSender(ifName: string, dstMac: string, dstIp: string): string {
  return `
import socket, struct, sys
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
mac = lambda m: bytes(int(x, 16) for x in m.split(':'))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('${ifName}', 0))
for arg in sys.argv[1:]:
    vid = int(arg)
    macs = mac('${dstMac}') + mac('${FAKE_MAC}')
    tag = struct.pack('!HH', 0x8100, (3 << 13) | vid)
    icmp = struct.pack('!BBHHH', 8, 0, 0, 0x4e56, vid) + b'uplink-vlan' * 4
    icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0, socket.inet_aton('${FAKE_IP}'), socket.inet_aton('${dstIp}'))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    s.send(macs + tag + struct.pack('!H', 0x0800) + ip + icmp)
`;
}

/**
 * Runs `act` while tcpdump writes what `ifName` in `ns` sees to `pcap`; returns `pcap`.
 * --immediate-mode: without it frames wait for the 1 s block timeout and a short run loses them all.
 */
async function tcpdump(netns: Netns, ns: string, ifName: string, pcap: string, act: () => Promise<unknown>): Promise<string> {
  const dump = netns.spawn(ns, ['tcpdump', '-i', ifName, '-nn', '-U', '--immediate-mode', '-w', pcap]);
  const exited = once(dump, 'exit');
  try {
    await sleep(1000); // tcpdump is listening
    await act();
    await sleep(300);
  } finally {
    dump.kill('SIGINT');
    await Promise.race([exited, sleep(5000)]);
  }
  return pcap;
}

describe.runIf(run)('uplink as an 802.1Q trunk carrying VLAN 10, vm0 an access port on 10', () => {
  let up: TapLab | undefined;

  beforeAll(async () => {
    up = await tapUp({ vms: 2, prefix, stateFile, subnet: SUBNET, uplink: 'up0', uplinkVlan: 'trunk:10', vmVlans: { vm0: 10 } });
  });

  afterAll(() => tapLabTeardown(up, { prefix, stateFile, dir }));

  const capture = (ns: string, ifName: string, name: string, act: () => Promise<unknown>): Promise<string> => tcpdump(up!.netns, ns, ifName, join(dir, `${name}.pcap`), act);

  test("vm0's ARP and ICMP reach the uplink TAP tagged VLAN 10; the untagged vm1 still talks untagged", async () => {
    const u = up!.uplink!;
    const [vm0, vm1] = up!.vms;
    const vm0Mac = vm0!.tap.nic.mac;
    const link = await up!.netns.exec(u.ns, ['cat', `/sys/class/net/${u.ifName}/address`], 10_000);
    const uplinkMac = link.stdout.trim();
    expect(uplinkMac).toMatch(/^[0-9a-f:]{17}$/);
    const before = (await up!.lab.hostClient.call('uplinkStats', []))!;
    let vm1Ping = '';
    const pcap = await capture(u.ns, u.ifName, 'uplink-out', async () => {
      // No 8021q here: nobody answers ARP on VLAN 10, so vm0 broadcasts ARP requests (tagged) …
      await up!.netns.exec(vm0!.ns, ['ping', '-c', '2', '-i', '0.2', '-W', '1', UPLINK_IP], 20_000);
      // … and, told the uplink's MAC, sends its echo requests (tagged) to it.
      const r = await up!.netns.exec(vm0!.ns, ['ip', 'neigh', 'replace', UPLINK_IP, 'lladdr', uplinkMac, 'dev', vm0!.ifName, 'nud', 'permanent'], 10_000);
      expect(r.code, r.stderr).toBe(0);
      await up!.netns.exec(vm0!.ns, ['ping', '-c', '3', '-i', '0.1', '-W', '1', UPLINK_IP], 20_000);
      vm1Ping = (await up!.netns.exec(vm1!.ns, ['ping', '-c', '3', '-i', '0.1', '-W', '2', UPLINK_IP], 20_000)).stdout;
    });
    // The untagged network is the trunk's native VLAN: vm1 and the uplink talk without tags.
    expect(vm1Ping).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
    const arp = await fields(pcap, `arp.opcode == 1 && eth.src == ${vm0Mac}`, 'vlan.id', 'arp.dst.proto_ipv4');
    expect(arp.length).toBeGreaterThanOrEqual(1);
    expect(new Set(arp)).toEqual(new Set([`10\t${UPLINK_IP}`]));
    // The 3 echoes, and those of the first ping that waited for ARP until the neighbour was set.
    const echo = await fields(pcap, `icmp.type == 8 && eth.src == ${vm0Mac}`, 'vlan.id', 'eth.dst', 'ip.dst');
    expect(echo.length).toBeGreaterThanOrEqual(3);
    expect(new Set(echo)).toEqual(new Set([`10\t${uplinkMac}\t${UPLINK_IP}`]));
    // Nothing of vm0 left the uplink untagged; nothing of vm1 left it tagged.
    expect(await fields(pcap, `eth.src == ${vm0Mac} && !vlan`, 'frame.number')).toEqual([]);
    expect(await fields(pcap, `eth.src == ${vm1!.tap.nic.mac} && vlan`, 'frame.number')).toEqual([]);
    expect((await fields(pcap, `icmp.type == 8 && eth.src == ${vm1!.tap.nic.mac}`, 'frame.number')).length).toBe(3);
    const after = (await up!.lab.hostClient.call('uplinkStats', []))!;
    // Every frame of vm0 the uplink took went out tagged (ND/MLD of vm0 may add to the count).
    expect(after.tx_vlan_tagged - before.tx_vlan_tagged).toBeGreaterThanOrEqual(arp.length + echo.length);
  });

  test('tagged frames written to the uplink TAP: VLAN 10 reaches vm0 untagged, VLAN 20 is refused', async () => {
    const u = up!.uplink!;
    const [vm0] = up!.vms;
    const stats = async () => {
      const s = await up!.lab.hostClient.call('stats', []);
      return { uplink: (await up!.lab.hostClient.call('uplinkStats', []))!, port: s.switchPorts[u.ifName]! };
    };
    const before = await stats();
    const guestBefore = await vm0!.tap.stats();
    const neigh = await up!.netns.exec(vm0!.ns, ['ip', 'neigh', 'replace', FAKE_IP, 'lladdr', FAKE_MAC, 'dev', vm0!.ifName, 'nud', 'permanent'], 10_000);
    expect(neigh.code, neigh.stderr).toBe(0);
    const script = rawSender(u.ifName, vm0!.tap.nic.mac, vm0!.ip);
    let sent = { code: -1, stderr: '' };
    let uplinkPcap = '';
    const vmPcap = await capture(vm0!.ns, vm0!.ifName, 'vm0-in', async () => {
      uplinkPcap = await capture(u.ns, u.ifName, 'uplink-back', async () => {
        sent = await up!.netns.exec(u.ns, ['python3', '-c', script, '10', '10', '20'], 20_000);
      });
    });
    expect(sent.code, sent.stderr).toBe(0);
    // vm0 got the two VLAN 10 echo requests without a tag, and only those (not VLAN 20's).
    const inVm = await fields(vmPcap, `icmp.type == 8 && eth.src == ${FAKE_MAC}`, 'vlan.id', 'icmp.seq', 'ip.dst');
    expect(inVm).toEqual([`\t10\t${vm0!.ip}`, `\t10\t${vm0!.ip}`]);
    // Its echo replies left the uplink tagged VLAN 10 again (towards the MAC learned behind the uplink).
    const replies = await fields(uplinkPcap, `icmp.type == 0 && eth.dst == ${FAKE_MAC}`, 'vlan.id', 'ip.src', 'ip.dst');
    expect(replies).toEqual(new Array(2).fill(`10\t${vm0!.ip}\t${FAKE_IP}`));
    const after = await stats();
    expect(after.uplink.rx_vlan_tagged - before.uplink.rx_vlan_tagged).toBe(3);
    expect(after.uplink.rx_bad_vlan - before.uplink.rx_bad_vlan).toBe(0);
    expect(after.port.vlan_dropped! - before.port.vlan_dropped!).toBe(1);
    expect((await vm0!.tap.stats()).rx_frames - guestBefore.rx_frames).toBeGreaterThanOrEqual(2);
  });
});

describe.runIf(run)('netvsc up --detach --uplink-vlan trunk:10 --nic-vlan nic0=access:10', () => {
  const ddir = mkdtempSync(join(tmpdir(), 'nvsc-upw-')); // the suite above removes its dir when it ends
  const dprefix = testPrefix('w');
  const dstate = join(ddir, 'detach-state.json');
  const sock = join(ddir, 'up.sock');
  const cli = ['node', resolve(import.meta.dirname, '../../dist/src/cli/main.js')];
  const args = ['--prefix', dprefix, '--state-file', dstate, '--socket', sock];
  let pid = 0;

  afterAll(async () => {
    if (pidAlive(pid)) process.kill(pid, 'SIGKILL'); // only when the test failed before its down
    await tapLabTeardown(undefined, { prefix: dprefix, stateFile: dstate, dir: ddir });
  });

  test("the flags reach the background up: vm0's ARP leaves the uplink TAP tagged VLAN 10", async () => {
    const started = await runCommand([...cli, 'up', '--detach', '--vms', '2', '--uplink', 'up0', '--uplink-vlan', 'trunk:10', '--nic-vlan', 'nic0=access:10', ...args], 120_000);
    expect(started.code, started.stderr).toBe(0);
    pid = Number(/detached: pid (\d+)/.exec(started.stdout)?.[1] ?? 0);
    expect(pid).toBeGreaterThan(0);
    const netns = new Netns({ prefix: dprefix, stateFile: dstate });
    const ns = `${dprefix}uplink`;
    let vm1 = '';
    const pcap = await tcpdump(netns, ns, `${dprefix}up0`, join(ddir, 'detach-uplink.pcap'), async () => {
      await netns.exec(`${dprefix}vm0`, ['ping', '-c', '1', '-W', '1', '10.77.0.254'], 20_000);
      vm1 = (await netns.exec(`${dprefix}vm1`, ['ping', '-c', '1', '-W', '2', '10.77.0.254'], 20_000)).stdout;
    });
    expect(vm1).toMatch(/1 packets transmitted, 1 received/);
    const who = await fields(pcap, 'arp.opcode == 1 && arp.dst.proto_ipv4 == 10.77.0.254', 'arp.src.proto_ipv4', 'vlan.id');
    expect(who.length).toBeGreaterThanOrEqual(2);
    expect(new Set(who)).toEqual(new Set(['10.77.0.1\t10', '10.77.0.2\t']));
    const down = await runCommand([...cli, 'down', ...args], 60_000);
    expect(down.code, down.stderr).toBe(0);
    expect((await netns.listNamespaces()).filter((n) => n.startsWith(dprefix))).toEqual([]);
  });
});
