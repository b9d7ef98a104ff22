// The addon's batch read (native/tap.c readFrames) against a real TAP: a frame that fills all
// frameMax bytes comes back as length -1 (tun cuts it to the buffer and says nothing), and the
// 8-byte rounding of the next frame's start never takes a read past the end of `buf`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Netns, TapDevice, tapAvailability, type TapAddon } from '../../src/io/index.js';
import { netnsCanRun, testPrefix } from '../harness/netns-guard.js';

const run = netnsCanRun('TAP readFrames', { needsTap: true, tools: ['bash'] });

describe.runIf(run)('addon readFrames on a non-blocking TAP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nvsc-rf-'));
  const netns = new Netns({ prefix: testPrefix('r'), stateFile: join(dir, 'state.json') });
  const ns = netns.name('ns');
  const tapName = netns.name('tap');
  let tap: TapDevice | undefined;
  let fd = -1;

  beforeAll(async () => {
    await netns.createNamespace(ns);
    await netns.recordLink(tapName);
    tap = TapDevice.open({ name: tapName, reader: 'inline' });
    fd = tap.shared.rxFd!;
    await netns.moveLink(tapName, ns);
    // IPv6 off so the kernel sends nothing of its own; a static neighbour so UDP goes out without ARP.
    expect((await netns.exec(ns, ['sysctl', '-w', `net.ipv6.conf.${tapName}.disable_ipv6=1`])).code).toBe(0);
    await netns.configureLink(ns, tapName, { address: '10.78.0.1/24', mtu: 1500 });
    expect((await netns.exec(ns, ['ip', 'neigh', 'add', '10.78.0.2', 'lladdr', '02:15:5d:00:00:02', 'dev', tapName])).code).toBe(0);
  });

  afterAll(async () => {
    try {
      await tap?.close(ns);
    } finally {
      await netns.down();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const addon = (): TapAddon => {
    const a = tapAvailability();
    if (!a.ok) throw new Error(a.reason);
    return a.addon;
  };

  /** Empties the fd, sends `count` UDP datagrams of `payload` bytes from the namespace, waits for them. */
  async function send(count: number, payload: number): Promise<void> {
    const scratch = new Uint8Array(1 << 17);
    const spans = new Int32Array(128);
    await sleep(50);
    while (addon().readFrames(fd, scratch, spans, 64, 65600) > 0);
    const r = await netns.exec(ns, ['bash', '-c', `for i in $(seq ${count}); do printf '%0${payload}d' 0 > /dev/udp/10.78.0.2/9; done`]);
    expect(r.code).toBe(0);
    await sleep(50);
  }

  test('a frame longer than frameMax is reported as -1 (possibly truncated), not as frameMax bytes', async () => {
    await send(2, 200); // 12 + 14 + 20 + 8 + 200 = 254 bytes each
    const spans = new Int32Array(8);
    const got = addon().readFrames(fd, new Uint8Array(4096), spans, 4, 64);
    expect(got).toBe(2);
    expect([...spans.subarray(0, 4)]).toEqual([0, -1, 64, -1]);
    await send(1, 200);
    expect(addon().readFrames(fd, new Uint8Array(4096), spans, 4, 512)).toBe(1);
    expect(spans[1]).toBe(254); // with room it is whole
  });

  test('the rounded start of the next frame past the end of buf ends the batch (no read past buf)', async () => {
    await send(2, 36); // 12 + 14 + 20 + 8 + 36 = 90 bytes: the next frame would start at 96
    const big = new Uint8Array(4096).fill(0xee);
    const spans = new Int32Array(8);
    const got = addon().readFrames(fd, big.subarray(0, 95), spans, 4, 95);
    expect(got).toBe(1);
    expect([...spans.subarray(0, 2)]).toEqual([0, 90]);
    expect(big.subarray(95).every((b) => b === 0xee)).toBe(true);
  });
});
