// Frames from VM A arrive at VM B byte-identical and in order: through the traffic apps inside
// the VMs, and through the app ports from the main thread. Host and VMs in separate workers.
import { describe, expect, test } from 'vitest';
import { buildUdp4Frame, FrameSpec } from '../../src/packet/index.js';
import { newFrameMeta } from '../../src/core/index.js';
import { newLab, range, runFlow } from './fixtures.js';

describe.each(['workers', 'single-thread'] as const)('VM to VM (%s)', (mode) => {
  test('every frame size from 60 to MTU+14 bytes arrives once, in order, byte-identical', async () => {
    const lab = await newLab({ profile: 'azure', mode });
    const a = (await lab.addVm({ name: 'a' })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!;
    const sizes = range(60, 1514);
    const r = await runFlow(lab, a, b, { flow: 7, sizes, count: sizes.length * 2 });
    expect(r).toMatchObject({ unique: sizes.length * 2, delivered: sizes.length * 2, lost: 0, duplicated: 0, reordered: 0, corrupt: 0 });
    const s = await b.stats();
    expect(s.guest.ethtool.rx_queue_0_packets).toBe(sizes.length * 2);
    expect(s.host.queues[0]!.rx_packets).toBe(sizes.length * 2);
  });

  test('frames written into A\'s app port come out of B\'s app port byte-identical, in order', async () => {
    const lab = await newLab({ profile: 'ws2016', mode });
    const a = (await lab.addVm({ name: 'a' })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!;
    const spec = new FrameSpec();
    spec.dstMac.set(b.mac.split(':').map((x) => parseInt(x, 16)));
    spec.srcMac.set(a.mac.split(':').map((x) => parseInt(x, 16)));
    spec.src4 = 0x0a000001;
    spec.dst4 = 0x0a000002;
    spec.srcPort = 1000;
    spec.dstPort = 2000;
    const frames = range(0, 999).map((i) => {
      const payload = Uint8Array.from({ length: 18 + ((i * 37) % 1400) }, (_, j) => (i + j) & 0xff);
      const f = new Uint8Array(1514);
      spec.ipId = i;
      return f.slice(0, buildUdp4Frame(f, 0, spec, payload, 0, payload.length));
    });
    await lab.writeFrames(a.port, frames);
    const got: Uint8Array[] = [];
    await lab.waitFor('1000 frames at B\'s app port', () => {
      b.port.poll((u8, off, len) => got.push(u8.slice(off, off + len)), 256);
      return got.length >= frames.length;
    });
    expect(got.length).toBe(frames.length);
    for (let i = 0; i < frames.length; i++) expect(got[i]).toEqual(frames[i]);
    expect(a.port.tryWrite(frames[0]!, 0, frames[0]!.length, newFrameMeta())).toBe(true);
  });
});
