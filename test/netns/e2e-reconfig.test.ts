// ethtool -G and -L on a VM NIC while iperf3 TCP runs through it flat out: the driver detaches
// and re-attaches its VMBus channels under load, the TAP bridge holds the kernel's frames
// meanwhile, and the TCP connection must survive (iperf3 finishes with data, no error).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tapUp, type TapLab } from '../../src/lab/tap/index.js';
import { iperf3 } from '../harness/e2e-tools.js';
import { netnsCanRun, tapLabTeardown, testPrefix } from '../harness/netns-guard.js';

const run = netnsCanRun('e2e reconfiguration under iperf3', { needsTap: true, tools: ['iperf3'] });
const dir = mkdtempSync(join(tmpdir(), 'nvsc-e2r-'));
const prefix = testPrefix('r');
const stateFile = join(dir, 'state.json');

describe.runIf(run)('ethtool -G / -L during iperf3', () => {
  let up: TapLab | undefined;

  beforeAll(async () => {
    up = await tapUp({ vms: 2, queues: 4, prefix, stateFile, subnet: '10.79.0' });
  });

  afterAll(() => tapLabTeardown(up, { prefix, stateFile, dir }));

  test('the TCP connection survives -G rx/tx and -L combined on the sender and the receiver', async () => {
    const [a, b] = up!.vms;
    const flow = iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5311, ['-t', '3']);
    await sleep(700);
    const ga = await a!.tap.nic.setRing({ rx: 2048, tx: 256 });
    expect([ga.rxSections, ga.txSections]).toEqual([2048, 256]);
    await sleep(400);
    expect((await b!.tap.nic.setChannels(2)).queues).toBe(2);
    await sleep(400);
    expect((await a!.tap.nic.setChannels(1)).queues).toBe(1);
    const r = await flow;
    expect(r.bps).toBeGreaterThan(10e6);
    const st = await a!.tap.stats();
    expect(st.tx_dropped).toBe(0);
    // Afterwards the path still carries traffic both ways.
    const ping = await up!.netns.exec(b!.ns, ['ping', '-c', '5', '-i', '0.05', '-W', '2', a!.ip], 20_000);
    expect(ping.stdout).toMatch(/5 packets transmitted, 5 received, 0% packet loss/);
  });

  test('iperf3 UDP at full rate completes with the receiver counting datagrams', async () => {
    const [a, b] = up!.vms;
    const r = await iperf3(up!.netns, b!.ns, a!.ns, b!.ip, 5312, ['-u', '-t', '2', '-b', '0', '-l', '1400']);
    expect(r.packets).toBeGreaterThan(10_000);
  });
});
