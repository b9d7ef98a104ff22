// The synthetic data path's behaviours, deterministic in single-thread mode: aggregation, the
// page-buffer fallback, receive-buffer exhaustion and recovery. Counts and bytes, never times.
import { describe, expect, test } from 'vitest';
import { newLab, runFlow } from './fixtures.js';

describe('data path (single-thread)', () => {
  test('a burst of small frames goes out in far fewer VMBus packets than frames', async () => {
    const lab = await newLab({ profile: 'azure', mode: 'single-thread' });
    const a = (await lab.addVm({ name: 'a' })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!;
    const before = (await a.stats()).host.queues[0]!;
    const r = await runFlow(lab, a, b, { flow: 1, sizes: [60, 64, 128], count: 3000, batch: 64 });
    expect(r).toMatchObject({ unique: 3000, lost: 0, corrupt: 0, reordered: 0 });
    const after = (await a.stats()).host.queues[0]!;
    const frames = after.tx_packets! - before.tx_packets!;
    const vmbusPackets = after.tx_vmbus_packets! - before.tx_vmbus_packets!;
    expect(frames).toBe(3000);
    expect(vmbusPackets * 4).toBeLessThan(frames);
  });

  test('frames larger than a send section go GPA-direct and arrive intact', async () => {
    const lab = await newLab({ profile: 'ws2019', mode: 'single-thread' });
    const a = (await lab.addVm({ name: 'a', nics: [{ mtu: 9000 }] })).nics[0]!;
    const b = (await lab.addVm({ name: 'b', nics: [{ mtu: 9000 }] })).nics[0]!;
    const r = await runFlow(lab, a, b, { flow: 2, sizes: [6200, 8000, 9014], count: 300, batch: 8 });
    expect(r).toMatchObject({ unique: 300, lost: 0, corrupt: 0, duplicated: 0, reordered: 0 });
    expect((await a.stats()).host.queues[0]!.tx_packets).toBe(300);
  });

  test('frames sent while every send section is in use fall back to page buffers and arrive intact', async () => {
    const lab = await newLab({ profile: 'azure', mode: 'single-thread' });
    const a = (await lab.addVm({ name: 'a', nics: [{ txSections: 10 }] })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!;
    const r = await runFlow(lab, a, b, { flow: 3, sizes: [1514, 1400, 1200], count: 2000, batch: 128 });
    expect(r).toMatchObject({ unique: 2000, lost: 0, corrupt: 0, duplicated: 0, reordered: 0 });
    // Every section was in use at some point: those frames went GPA-direct (tx_send_full, §4.3)
    // rather than stopping the queue; a stop (pool exhausted too) always woke; nothing was lost.
    const g = (await a.stats()).guest.ethtool;
    expect(g.tx_send_full).toBeGreaterThan(0);
    expect(g.wake_queue).toBe(g.stop_queue);
    expect(g.tx_queue_0_packets).toBe(2000);
    expect(g.tx_queue_0_bytes).toBe(r.bytes);
  });

  test('receive-buffer exhaustion drops and counts; traffic flows again once the guest catches up', async () => {
    const lab = await newLab({ profile: 'azure', mode: 'single-thread' });
    const a = (await lab.addVm({ name: 'a' })).nics[0]!;
    const b = (await lab.addVm({ name: 'b', nics: [{ rxSections: 40 }] })).nics[0]!;
    const dropped = async (): Promise<number> => (await b.stats()).host.queues[0]!.rx_dropped_no_section!;
    const burst = await runFlow(lab, a, b, { flow: 4, sizes: [1514], count: 500, batch: 256, accounted: async (r) => r.unique + (await dropped()) >= 500 });
    const host = (await b.stats()).host.queues[0]!;
    expect(host.rx_dropped_no_section).toBeGreaterThan(0);
    expect(burst.lost).toBe(host.rx_dropped_no_section);
    expect(burst.unique + burst.lost).toBe(500);
    expect(burst).toMatchObject({ corrupt: 0, duplicated: 0, reordered: 0 });
    // The same NIC, at a pace the receiver keeps up with (8 frames in flight, fewer than the
    // sections the host leaves for frames after its control reserve of max(2, 40 / 8) = 5), through the app ports.
    const frame = new Uint8Array(1514);
    frame.set(b.mac.split(':').map((x) => parseInt(x, 16)), 0);
    frame.set(a.mac.split(':').map((x) => parseInt(x, 16)), 6);
    frame[12] = 0x88;
    frame[13] = 0xb5; // local experimental EtherType: no sink claims it
    let got = 0;
    for (let round = 0; round < 25; round++) {
      const frames = Array.from({ length: 8 }, (_, i) => {
        const f = frame.slice();
        f[14] = round;
        f[15] = i;
        return f;
      });
      await lab.writeFrames(a.port, frames);
      const want = got + 8;
      await lab.waitFor(`round ${round} at B`, () => {
        b.port.poll((u8, off, len) => {
          if (len === 1514 && u8[off + 14] === Math.floor(got / 8) && u8[off + 15] === got % 8) got++;
        }, 64);
        return got >= want;
      });
    }
    expect(got).toBe(200);
    expect((await b.stats()).host.queues[0]!.rx_dropped_no_section).toBe(host.rx_dropped_no_section);
  });
});
