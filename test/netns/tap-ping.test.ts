// A TAP opened through our addon, moved into a fresh namespace, answered from Node: the kernel's
// ping must see 0% loss, and tshark must find every IP and ICMP checksum in our capture good.
// Both reader modes: an RX worker doing blocking reads into a ring, and inline reads of a
// non-blocking fd on this thread (woken by the addon's fd watch), as the VM worker does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Netns, PcapWriter, readPcap, runCommand, tapAvailability, TapDevice, TapPort } from '../../src/io/index.js';
import { netnsCanRun, testPrefix } from '../harness/netns-guard.js';
import { PingResponder } from '../harness/netns-responder.js';

const run = netnsCanRun('TAP ping', { needsTap: true, tools: ['ping', 'tshark'] });
const MAC = [0x02, 0x15, 0x5d, 0x00, 0x00, 0x02];

describe.runIf(run).each(['worker', 'inline'] as const)('TAP port in a namespace (%s reader)', (reader) => {
  const dir = mkdtempSync(join(tmpdir(), 'nvsc-tap-'));
  const netns = new Netns({ prefix: testPrefix('p'), stateFile: join(dir, 'state.json') });
  const pcapPath = join(dir, 'ping.pcap');
  let tap: TapDevice | undefined;
  let responder: PingResponder | undefined;
  let pcap: PcapWriter | undefined;
  const ns = netns.name(`ns${reader[0]}`);
  const tapName = netns.name(`tap${reader[0]}`);

  beforeAll(async () => {
    await netns.createNamespace(ns);
    await netns.recordLink(tapName);
    tap = TapDevice.open({ name: tapName, reader });
    await netns.moveLink(tapName, ns);
    // The TAP's kernel side is the namespace's host; our Node responder is 10.77.0.2 behind it.
    await netns.configureLink(ns, tapName, { address: '10.77.0.1/24', mtu: 1500 });
    pcap = new PcapWriter(pcapPath, { bufferBytes: 1 << 17 });
    responder = new PingResponder(tap.port(), MAC, [10, 77, 0, 2], pcap);
    responder.start();
  });

  afterAll(async () => {
    try {
      await responder?.stop();
      pcap?.close();
      await tap?.close(ns);
    } finally {
      await netns.down();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ping from the namespace gets every reply from the Node responder', async () => {
    const r = await netns.exec(ns, ['ping', '-c', '5', '-i', '0.2', '-W', '2', '10.77.0.2']);
    expect(r.stdout).toMatch(/5 packets transmitted, 5 received, 0% packet loss/);
    expect(responder!.counts.echoReplies).toBe(5);
    expect(responder!.counts.arpReplies).toBeGreaterThanOrEqual(1);
    const neigh = await netns.exec(ns, ['ip', 'neigh', 'show', '10.77.0.2']);
    expect(neigh.stdout).toMatch(/lladdr 02:15:5d:00:00:02/);
    const st = tap!.stats();
    expect(st.txFrames).toBe(responder!.counts.echoReplies + responder!.counts.arpReplies);
    expect(st.txErrors).toBe(0);
    expect(st.rxFrames).toBeGreaterThanOrEqual(6);
    expect(st.rxErrors).toBe(0);
    // An inline port has no ring to block on: waitReadable says so instead of spinning.
    if (reader === 'inline') expect(() => tap!.port().waitReadable(1)).toThrow(/inline-RX/);
  });

  test('tshark reads the capture and finds every IP and ICMP checksum good', async () => {
    await responder!.stop();
    pcap!.close();
    const frames = readPcap(pcapPath).records;
    expect(frames.length).toBe(pcap!.frames);
    const r = await runCommand([
      'tshark', '-o', 'ip.check_checksum:TRUE', '-r', pcapPath, '-Y', 'icmp', '-T', 'fields',
      '-e', 'icmp.type', '-e', 'ip.checksum.status', '-e', 'icmp.checksum.status',
    ]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    // 5 requests from the kernel, 5 replies from us; status 1 = good (0 = bad, 2 = unverified).
    expect(rows.filter((f) => f[0] === '8')).toHaveLength(5);
    expect(rows.filter((f) => f[0] === '0')).toHaveLength(5);
    for (const f of rows) expect(f.slice(1)).toEqual(['1', '1']);
    const arp = await runCommand(['tshark', '-r', pcapPath, '-Y', 'arp.opcode == 2 && arp.src.proto_ipv4 == 10.77.0.2', '-T', 'fields', '-e', 'arp.src.hw_mac']);
    expect(arp.stdout.trim().split('\n')[0]).toBe('02:15:5d:00:00:02');
  });

  // A second port over the same fd, so closing it leaves the device's own port to the next test.
  if (reader === 'inline') test('a readable() still pending when its port closes ends false at once; unwatch() twice is a no-op', async () => {
    await responder!.stop();
    // Link down: the kernel sends nothing more (no IPv6 solicitations), then drain what is queued.
    expect((await netns.exec(ns, ['ip', 'link', 'set', 'dev', tapName, 'down'])).code).toBe(0);
    const port = new TapPort(tap!.shared);
    while (port.poll(() => {}, 64) > 0);
    const t0 = performance.now();
    const pending = port.readable(5000); // nothing can arrive: only close() or the timeout ends it
    await sleep(20);
    port.close();
    expect(await pending).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000); // ended by close(), not by its 5 s timeout
    const a = tapAvailability();
    if (!a.ok) throw new Error(a.reason);
    const h = a.addon.watch(tap!.shared.rxFd!, () => {});
    a.addon.unwatch(h);
    a.addon.unwatch(h); // the handle keeps the watch's memory: nothing freed twice, nothing read after free
    await sleep(10); // the close callback runs on this loop
    a.addon.unwatch(h);
    expect((await netns.exec(ns, ['ip', 'link', 'set', 'dev', tapName, 'up'])).code).toBe(0);
  });

  // Only the inline reader watches the fd (the worker reader's blocking read() ends with the interface).
  if (reader === 'inline') test('the interface going away wakes the watch, is counted once, and the port stops reading', async () => {
    await responder!.stop();
    const port = tap!.port();
    let wakes = 0;
    port.watch(() => wakes++);
    const before = tap!.stats().rxErrors;
    const del = await netns.exec(ns, ['ip', 'link', 'del', 'dev', tapName]);
    expect(del.code).toBe(0);
    for (let i = 0; i < 100 && wakes === 0; i++) await sleep(10);
    expect(wakes).toBeGreaterThan(0); // the kernel reports the detached fd as an error: the watch fires
    expect(port.poll(() => {}, 64)).toBe(0);
    expect(tap!.stats().rxErrors).toBe(before + 1);
    expect(port.poll(() => {}, 64)).toBe(0); // no more reads, no more errors
    expect(tap!.stats().rxErrors).toBe(before + 1);
    port.close();
    port.close(); // idempotent
  });
});
