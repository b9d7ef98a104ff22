// The addon's C TAP-to-TAP relay (native/relay.c, the e2e bench's same-run ceiling) between two
// namespaces: with one thread and with three (A, host, B over byte rings), sleeping, ping and a
// 1 s iperf3 TCP pass through it and its counters account for them; 64 B UDP at full rate reaches
// the receiver through the three-thread rings (a slot per frame would overflow there); bad
// arguments are TypeErrors with code EINVAL; a stopped relay can start again in another mode.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Netns, TapRelay, tapAvailability, type TapAddon, type TapRelayCounters, type TapRelayThreads, VNET_HDR_LEN } from '../../src/io/index.js';
import { iperf3 } from '../harness/e2e-tools.js';
import { netnsCanRun, testPrefix } from '../harness/netns-guard.js';

const run = netnsCanRun('TAP relay', { needsTap: true, tools: ['ping', 'iperf3'] });

describe.runIf(run)('C TAP relay between two namespaces', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nvsc-rl-'));
  const prefix = testPrefix('l');
  const netns = new Netns({ prefix, stateFile: join(dir, 'state.json') });
  const nsA = netns.name('a');
  const nsB = netns.name('b');
  let relay: TapRelay | undefined;

  /** Two more TAPs (root namespace, down) for the argument tests, closed (so deleted) by afterAll. */
  let spareTaps: number[] = [];

  beforeAll(async () => {
    relay = await TapRelay.inNewNamespaces(netns, '', '10.79.0');
    expect([relay.a.ns, relay.b.ns]).toEqual([nsA, nsB]);
    spareTaps = [await openSpare('sx'), await openSpare('sy')];
  });

  /** The addon, which the suite's guard (needsTap) made sure of. */
  function tapAddon(): TapAddon {
    const a = tapAvailability();
    if (!a.ok) throw new Error(a.reason);
    return a.addon;
  }

  async function openSpare(tag: string): Promise<number> {
    const name = netns.name(tag);
    await netns.recordLink(name);
    return tapAddon().open(name, VNET_HDR_LEN, 0, true).fd;
  }

  const linkExists = (tag: string): boolean => spawnSync('ip', ['link', 'show', 'dev', netns.name(tag)], { stdio: 'ignore' }).status === 0;

  afterAll(async () => {
    const a = tapAvailability();
    if (a.ok) for (const fd of spareTaps) a.addon.close(fd);
    spareTaps = [];
    try {
      expect(await relay?.close()).toBeNull(); // the last test stopped it
      expect(await netns.listNamespaces()).not.toContain(nsA); // close() removed what it made
    } finally {
      await netns.down();
      rmSync(dir, { recursive: true, force: true });
    }
    expect((await netns.listNamespaces()).filter((n) => n.startsWith(prefix))).toEqual([]);
  });

  for (const threads of [1, 3] as const satisfies readonly TapRelayThreads[]) {
    test(`threads=${threads}, sleeping: ping 5/5 and 1 s of iperf3 TCP, every frame and byte counted`, async () => {
      relay!.start(threads, false);
      let stopped = false;
      try {
        const ping = await netns.exec(nsA, ['ping', '-c', '5', '-i', '0.05', '-W', '2', '10.79.0.2'], 20_000);
        expect(ping.stdout).toMatch(/5 packets transmitted, 5 received/);
        const tcp = await iperf3(netns, nsB, nsA, '10.79.0.2', 5601 + threads, ['-t', '1']);
        expect(tcp.bps).toBeGreaterThan(0);
        const c = relay!.stop()!;
        stopped = true;
        // 5 requests + 5 replies at least (plus ARP and the TCP run); the data went A to B.
        expect(c.framesAtoB).toBeGreaterThanOrEqual(5);
        expect(c.framesBtoA).toBeGreaterThanOrEqual(5);
        expect(c.frames).toBe(c.framesAtoB + c.framesBtoA);
        expect(c.bytesAtoB).toBeGreaterThanOrEqual(tcp.bps / 8); // 1 s at the receiver's rate
        expect(c.bytes).toBe(c.bytesAtoB + c.bytesBtoA);
        expect(c.readErrors + c.writeErrors + c.truncated).toBe(0);
        expect(c.framesRead).toBe(c.frames + c.discarded);
        if (threads === 1) expect(c.ringFull + c.discarded).toBe(0);
      } finally {
        if (!stopped) relay!.stop();
      }
    }, 30_000);
  }

  test('threads=3, sleeping: 1 s of iperf3 UDP -l 64 -b 0 delivers more than 10 k datagrams', async () => {
    relay!.start(3, false);
    try {
      const udp = await iperf3(netns, nsB, nsA, '10.79.0.2', 5611, ['-u', '-l', '64', '-b', '0', '-t', '1']);
      expect(udp.packets).toBeGreaterThan(10_000);
    } finally {
      const c = relay!.stop()!;
      expect(c.framesAtoB).toBeGreaterThan(10_000);
      expect(c.readErrors + c.writeErrors + c.truncated).toBe(0);
    }
  }, 30_000);

  for (const threads of [1, 3] as const satisfies readonly TapRelayThreads[]) {
    test(`threads=${threads}: stopped under a ping flood, every frame read is written, failed or counted discarded`, async () => {
      relay!.start(threads, false);
      let c: TapRelayCounters | null = null;
      const flood = netns.exec(nsA, ['ping', '-f', '-s', '1400', '-w', '2', '10.79.0.2'], 20_000);
      try {
        await sleep(700);
      } finally {
        c = relay!.stop()!;
      }
      await flood;
      expect(c.framesAtoB).toBeGreaterThan(100);
      expect(c.framesBtoA).toBeGreaterThan(100);
      expect(c.framesRead).toBe(c.frames + c.writeErrors + c.discarded);
    }, 30_000);
  }

  test('a relay refused at start (bad mode) leaves no TAP fd and no namespace behind', async () => {
    const tunFds = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === '/dev/net/tun';
        } catch {
          return false; // the directory's own fd, gone by now
        }
      }).length;
    const before = tunFds();
    await expect(TapRelay.inNewNamespaces(netns, 'e', '10.79.20', { threads: 2 as TapRelayThreads })).rejects.toMatchObject({ code: 'EINVAL' });
    expect(tunFds()).toBe(before);
    const left = await netns.listNamespaces();
    expect(left).not.toContain(netns.name('ea'));
    expect(left).not.toContain(netns.name('eb'));
  });

  test('threads=3, polling: ping 5/5', async () => {
    relay!.start(3, true);
    try {
      const ping = await netns.exec(nsA, ['ping', '-c', '5', '-i', '0.05', '-W', '2', '10.79.0.2'], 20_000);
      expect(ping.stdout).toMatch(/5 packets transmitted, 5 received/);
    } finally {
      const c = relay!.stop()!;
      expect(c.framesAtoB).toBeGreaterThanOrEqual(5);
      expect(c.sleeps).toBe(0);
    }
  }, 30_000);

  for (const threads of [1, 3] as const satisfies readonly TapRelayThreads[]) {
    test(`threads=${threads}: a TAP deleted under the relay counts one read error and is not read again`, async () => {
      // A deleted TAP's fd stays readable (POLLERR) and every read fails (EBADFD): the old relay
      // spun on it, ~2 M read errors in 0.5 s at 100 % of a core.
      const r = await TapRelay.inNewNamespaces(netns, `d${threads}`, `10.79.${10 + threads}`, { threads });
      try {
        const del = await netns.exec(r.b.ns, ['ip', 'link', 'del', 'dev', r.b.ifName]);
        expect(del.code, del.stderr).toBe(0);
        await sleep(300);
        const c = r.stop()!;
        expect(c.readErrors).toBe(1);
        expect(c.sleeps).toBeLessThan(100); // threads 3: 50 ms poll timeouts, not a spin; threads 1: 0
      } finally {
        await r.close();
      }
    }, 30_000);
  }

  test('bad arguments are TypeErrors (EINVAL); a second start is refused; a second stop returns null', () => {
    const addon = tapAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
    const bad: unknown[][] = [[], [0, 1, 2, false], [-1, 1, 1, false], [3, 3, 1, false], ['x', 1, 1, false], [0, 1, 1, 'no'], [0, 1, 1, false]];
    for (const args of bad) {
      // fds 0 and 1 are not TAPs: refused before any thread starts.
      expect(() => addon.relayStart!(...args), JSON.stringify(args)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'EINVAL' }));
    }
    expect(() => addon.relayStop!({})).toThrow(expect.objectContaining({ name: 'TypeError', code: 'EINVAL' }));
    // Two real TAPs: numbers that are not exactly such an fd (or exactly 1 or 3) are refused, not
    // truncated (1.5 -> 1) or wrapped (2^32 + fd -> fd) into valid arguments.
    const [fa, fb] = spareTaps;
    const inexact: unknown[][] = [[fa + 2 ** 32, fb, 1, false], [fa, fb - 2 ** 32, 1, false], [fa + 0.5, fb, 1, false], [fa, fb, 1.5, false], [fa, fb, 3 + 2 ** 32, false], [fa, fb, 2, false], [fa, fb, NaN, false], [fa, fb, Infinity, false]];
    for (const args of inexact) {
      expect(() => addon.relayStart!(...args), String(args)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'EINVAL' }));
    }
    // The rest of the addon takes numbers the same way (tap.c's tap_get_int): close(2^32 + fa) used to close fa.
    for (const call of [() => addon.close!(fa + 2 ** 32), () => addon.close!(fa + 0.5), () => addon.watch!(fa - 2 ** 32, () => {})]) {
      expect(call).toThrow(expect.objectContaining({ name: 'TypeError', code: 'EINVAL' }));
    }
    expect(linkExists('sx')).toBe(true);
    addon.relayStop!(addon.relayStart!(fa, fb, 1, false)); // the same TAPs with exact arguments start
    // Another of the addon's handles (an external too) is not taken for a relay.
    const watch = addon.watch!(fa, () => {});
    try {
      expect(() => addon.relayStop!(watch)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'EINVAL' }));
    } finally {
      addon.unwatch!(watch);
    }
    // ...and the other way: unwatch() refuses a relay handle (before, it took it for a watch and
    // closed a uv handle that was not one); the relay runs on and stops cleanly.
    const running = addon.relayStart!(fa, fb, 1, false);
    try {
      expect(() => addon.unwatch!(running as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'EINVAL' }));
    } finally {
      expect(addon.relayStop!(running)).toEqual(expect.objectContaining({ frames: expect.any(Number) }));
    }
    relay!.start(1);
    expect(() => relay!.start(3)).toThrow(/already running/);
    expect(relay!.stop()).not.toBeNull();
    expect(relay!.stop()).toBeNull();
  });

  test('a TAP a running relay uses is refused (Error EBUSY) until it stops; the relay keeps its own fd', async () => {
    const addon = tapAddon();
    const [fa, fb] = spareTaps as [number, number];
    const fc = await openSpare('sz');
    try {
      const h = addon.relayStart(fa, fb, 1, false);
      try {
        for (const [x, y] of [[fa, fb], [fb, fa], [fa, fc], [fc, fb]] as const) {
          expect(() => addon.relayStart(x, y, 3, false), `${x},${y}`).toThrow(expect.objectContaining({ code: 'EBUSY' }));
        }
        // Closing the caller's fd leaves the relay's own copy: the TAP (not persistent) lives on.
        addon.close(fb);
        spareTaps = [fa];
        expect(linkExists('sy')).toBe(true);
      } finally {
        addon.relayStop(h);
      }
      expect(linkExists('sy')).toBe(false); // the relay's copy closed after its threads joined
      addon.relayStop(addon.relayStart(fc, fa, 3, false)); // fa is free again
    } finally {
      addon.close(fc);
    }
  });
});
