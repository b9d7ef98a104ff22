// The addon's batch read (native/tap.c readFrames) against a real TAP: a frame that fills all
// frameMax bytes comes back as length -1 (tun cuts it to the buffer and says nothing), and the
// 8-byte rounding of the next frame's start never takes a read past the end of `buf`; a read
// window [start, end) of a larger buffer; writeFrags (one frame from several ranges of a buffer).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Netns, TapDevice, tapAvailability, type TapAddon } from '../../src/io/index.js';
import { fillIpv4HeaderChecksum, fillL4Checksum } from '../../src/packet/index.js';
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

  test('a read window [start, end) of a larger buffer: frames at start + 8k, nothing outside it', async () => {
    await send(3, 36); // 90 bytes each, 96 apart
    const big = new Uint8Array(4096).fill(0xee);
    const spans = new Int32Array(8);
    // Room for two frames of frameMax 95 from 1000: the third stays queued for the next call.
    const got = addon().readFrames(fd, big, spans, 4, 95, 1000, 1000 + 96 + 95);
    expect(got).toBe(2);
    expect([...spans.subarray(0, 4)]).toEqual([1000, 90, 1096, 90]);
    expect(big.subarray(0, 1000).every((b) => b === 0xee)).toBe(true);
    expect(big.subarray(1000 + 96 + 95).every((b) => b === 0xee)).toBe(true);
    expect(addon().readFrames(fd, big, spans, 4, 95, 2000, 2100)).toBe(1);
    expect(spans[0]).toBe(2000);
    expect(() => addon().readFrames(fd, big, spans, 4, 95, 100, 5000)).toThrow(TypeError); // end past buf
    expect(() => addon().readFrames(fd, big, spans, 4, 95, 200, 100)).toThrow(TypeError); // end before start
  });

  test('writeFrags: one frame from three ranges of a buffer reaches the kernel whole (its reply quotes it)', async () => {
    await send(0, 1); // empty the fd
    // A UDP datagram 10.78.0.2:4242 -> 10.78.0.1:9 (no listener: the kernel answers port unreachable
    // only for a datagram whose checksums are right, i.e. gathered in order).
    const frame = new Uint8Array(14 + 20 + 8 + 300);
    const mac = (await netns.exec(ns, ['cat', `/sys/class/net/${tapName}/address`])).stdout.trim().split(':').map((h) => parseInt(h, 16));
    frame.set([...mac, 0x02, 0x15, 0x5d, 0, 0, 0x02, 0x08, 0x00], 0); // to the TAP's own MAC
    const ip = 14;
    frame.set([0x45, 0, (20 + 8 + 300) >> 8, (20 + 8 + 300) & 0xff, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 78, 0, 2, 10, 78, 0, 1], ip);
    fillIpv4HeaderChecksum(frame, ip);
    frame.set([0x10, 0x92, 0, 9, (8 + 300) >> 8, (8 + 300) & 0xff, 0, 0], ip + 20);
    for (let i = 0; i < 300; i++) frame[ip + 28 + i] = (i * 7) & 0xff;
    fillL4Checksum(frame, ip, false, 17, ip + 20, 8 + 300);
    // Scatter it: [0, 50) at 3000, [50, 200) at 100, the rest at 1999.
    const buf = new Uint8Array(4096);
    const offs = new Int32Array([3000, 100, 1999]);
    const lens = new Int32Array([50, 150, frame.length - 200]);
    buf.set(frame.subarray(0, 50), 3000);
    buf.set(frame.subarray(50, 200), 100);
    buf.set(frame.subarray(200), 1999);
    const hdr = new Uint8Array(12); // no offloads
    expect(addon().writeFrags(fd, hdr, 12, buf, offs, lens, 3)).toBe(12 + frame.length);
    await sleep(100);
    const got = new Uint8Array(1 << 17);
    const spans = new Int32Array(128);
    const n = addon().readFrames(fd, got, spans, 64, 65600);
    let quoted = false;
    for (let i = 0; i < n; i++) {
      const f = got.subarray(spans[2 * i]! + 12, spans[2 * i]! + spans[2 * i + 1]!);
      // IPv4 ICMP type 3 code 3 quoting our IP header and UDP ports.
      if (f[12] === 0x08 && f[13] === 0 && f[23] === 1 && f[34] === 3 && f[35] === 3) {
        const q = f.subarray(42);
        quoted = q[9] === 17 && q[20] === 0x10 && q[21] === 0x92 && q[22] === 0 && q[23] === 9;
      }
    }
    expect(quoted).toBe(true);
    // Bad ranges are refused before anything is written.
    expect(() => addon().writeFrags(fd, hdr, 12, buf, new Int32Array([4000]), new Int32Array([200]), 1)).toThrow(RangeError);
    expect(() => addon().writeFrags(fd, hdr, 12, buf, offs, lens, 4)).toThrow(TypeError); // n past the arrays
  });
});
