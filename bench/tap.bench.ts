/**
 * TAP path figures: frames/s kernel → Node and Node → kernel through the TAP workers and SAB
 * rings, and ping RTT through the Node responder next to a kernel veth pair measured in the same
 * run. Needs root, /dev/net/tun and the addon; otherwise it prints why and reports nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newFrameMeta } from '../src/core/index.js';
import { Netns, tapUnavailableReason, TapDevice, type TapPort } from '../src/io/index.js';
import { PingResponder } from '../test/harness/netns-responder.js';
import type { BenchContext } from './harness.js';

const MAC = [0x02, 0x15, 0x5d, 0x00, 0x00, 0x02];

/** Average RTT in µs from ping's summary line. */
function avgRttUs(out: string): number {
  const m = /= [\d.]+\/([\d.]+)\//.exec(out);
  return m ? Number(m[1]) * 1000 : Number.NaN;
}

/** A 106-byte UDP/IPv4 frame 10.77.0.2 → 10.77.0.1:9 (checksums are not the point here). */
function udpFrame(): Uint8Array {
  const f = new Uint8Array(106);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...MAC, 0x08, 0x00, 0x45, 0, 0, 92, 0, 0, 0, 0, 64, 17, 0, 0, 10, 77, 0, 2, 10, 77, 0, 1, 0x30, 0x39, 0, 9, 0, 72, 0, 0]);
  return f;
}

async function rxRate(netns: Netns, ns: string, port: TapPort, ms: number): Promise<number> {
  // A Python UDP blaster in the namespace; static ARP so no responder is needed.
  const src = `import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nb=b'x'*64\nend=time.time()+${(ms + 500) / 1000}\nwhile time.time()<end:\n  for _ in range(1000):\n    try: s.sendto(b,('10.77.0.2',9))\n    except OSError: pass\n`;
  const sender = netns.spawn(ns, ['python3', '-c', src]);
  let n = 0;
  const count = (): void => {
    n++;
  };
  await new Promise((r) => setTimeout(r, 300));
  while (port.poll(count, 4096) > 0);
  n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await port.readable(20);
    port.poll(count, 4096);
  }
  const rate = n / ((performance.now() - start) / 1000);
  sender.kill('SIGKILL');
  return rate;
}

function txRate(tap: TapDevice, port: TapPort, ms: number): Promise<number> {
  const frame = udpFrame();
  const meta = newFrameMeta();
  const before = tap.stats().txFrames;
  const start = performance.now();
  return new Promise((resolve) => {
    const step = (): void => {
      const t0 = performance.now();
      while (performance.now() - t0 < 20) if (!port.tryWrite(frame, 0, frame.length, meta)) break;
      if (performance.now() - start < ms) setImmediate(step);
      else setTimeout(() => resolve((tap.stats().txFrames - before) / ((performance.now() - start) / 1000)), 100);
    };
    step();
  });
}

export async function run(ctx: BenchContext): Promise<void> {
  const reason = tapUnavailableReason();
  if (reason !== null) {
    console.log(`skipped: ${reason}`);
    return;
  }
  const ms = ctx.quick ? 1000 : 3000;
  const dir = mkdtempSync(join(tmpdir(), 'nvsc-bench-'));
  const netns = new Netns({ prefix: 'nvsc-b-', stateFile: join(dir, 'state.json') });
  const ns = netns.name('ns');
  const tapName = netns.name('tap0');
  let tap: TapDevice | undefined;
  try {
    await netns.createNamespace(ns);
    await netns.recordLink(tapName);
    tap = TapDevice.open({ name: tapName });
    await netns.moveLink(tapName, ns);
    await netns.configureLink(ns, tapName, { address: '10.77.0.1/24' });
    await netns.exec(ns, ['ip', 'neigh', 'replace', '10.77.0.2', 'lladdr', '02:15:5d:00:00:02', 'dev', tapName, 'nud', 'permanent']);
    const port = tap.port();

    ctx.report({ name: 'TAP RX kernel → Node (64 B UDP, python sender)', unit: 'pps', value: await rxRate(netns, ns, port, ms) });
    ctx.report({ name: 'TAP TX Node → kernel (106 B frames)', unit: 'pps', value: await txRate(tap, port, ms) });

    const responder = new PingResponder(port, MAC, [10, 77, 0, 2]);
    responder.start();
    const count = ctx.quick ? 2000 : 10000;
    const viaTap = avgRttUs((await netns.exec(ns, ['ping', '-f', '-c', String(count), '10.77.0.2'])).stdout);
    await responder.stop();

    const a = netns.name('va');
    const b = netns.name('vb');
    const nsB = netns.name('nsb');
    await netns.createNamespace(nsB);
    await netns.createVethPair({ name: a, netns: ns }, { name: b, netns: nsB });
    await netns.configureLink(ns, a, { address: '10.78.0.1/24' });
    await netns.configureLink(nsB, b, { address: '10.78.0.2/24' });
    const viaVeth = avgRttUs((await netns.exec(ns, ['ping', '-f', '-c', String(count), '10.78.0.2'])).stdout);
    ctx.report({ name: 'ping RTT through TAP + Node responder', unit: 'us', value: viaTap, ceiling: viaVeth, target: '≤ 2× veth (ratio ≤ 200%)' });
    ctx.report({ name: 'ping RTT kernel veth pair', unit: 'us', value: viaVeth });
  } finally {
    await tap?.close(ns);
    await netns.down();
    rmSync(dir, { recursive: true, force: true });
  }
}
