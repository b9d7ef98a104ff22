import { describe, expect, test } from 'vitest';
import { bringUp } from './bring-up.test.js';

const frame = (seq: number, len: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (seq * 13 + i) & 0xff);

describe('reconfiguration: detach then attach (§1.5, §4.7, §6.4, §6.9)', () => {
  test.each([
    ['ethtool -G', (d: Awaited<ReturnType<typeof bringUp>>['dev']) => d.setRingParams({ rx: 40, tx: 12 })],
    ['MTU', (d: Awaited<ReturnType<typeof bringUp>>['dev']) => d.setMtu(9000)],
  ] as const)('%s with frames queued loses none: batched frames go before, refused ones after', async (_n, change) => {
    const { host, dev } = await bringUp();
    await host.pump(dev.open());
    for (let i = 0; i < 5; i++) expect(dev.send(frame(i, 80), 0, 80, null, true)).toBe(true);
    const p = change(dev);
    // while reconfiguring the device takes nothing: the caller keeps the frame
    expect(dev.send(frame(5, 80), 0, 80)).toBe(false);
    await host.pump(p);
    expect(dev.state.kind).toBe('attached');
    expect(dev.send(frame(5, 80), 0, 80)).toBe(true);
    await host.settle();
    expect(host.frames.map((f) => [...f.bytes])).toEqual(Array.from({ length: 6 }, (_, i) => [...frame(i, 80)]));
    expect(host.nvsp.filter((m) => m.type === 1).length).toBeGreaterThanOrEqual(2);
  });

  test('ethtool -G clamps to [10, max] and reports the new counts', async () => {
    const { host, dev } = await bringUp();
    await host.pump(dev.setRingParams({ rx: 3, tx: 11 }));
    // 10 × 1728 B rounds up to 5 pages, which this host cuts into 11 sections (it owns the layout, §4.2)
    expect(dev.ethtool().ringparam).toMatchObject({ rxPending: 11, txPending: 11 });
    expect(host.nvsp.filter((m) => m.type === 101)).toHaveLength(2);
  });

  test('ethtool -L (§6.4): queues change, frames still flow both ways on every channel, bad counts refused', async () => {
    const { host, dev } = await bringUp({ version: 0x60001, maxSubChannels: 7, numRecvQue: 8 });
    await host.pump(dev.open());
    const got: number[][] = [];
    dev.onReceive = (u8, off, len) => got.push([...u8.subarray(off, off + len)]);
    expect(dev.queueCount).toBe(1);
    await host.pump(dev.setChannels(3));
    expect(dev.queueCount).toBe(3);
    expect(dev.ethtool().channels.combined).toBe(3);
    expect(host.nvsp.filter((m) => m.type === 1).length).toBe(2); // a second NVSP init: detach then attach
    for (let i = 0; i < 6; i++) expect(dev.send(frame(i, 100), 0, 100)).toBe(true);
    for (let q = 0; q < 3; q++) host.sendFrames([frame(10 + q, 90)], q);
    await host.settle();
    expect(host.frames.map((f) => [...f.bytes])).toEqual(Array.from({ length: 6 }, (_, i) => [...frame(i, 100)]));
    expect(got).toEqual([0, 1, 2].map((q) => [...frame(10 + q, 90)]));
    expect(dev.stats()['rx_queue_2_packets']).toBe(1);
    await host.pump(dev.setChannels(1));
    expect(dev.queueCount).toBe(1);
    expect(dev.send(frame(7, 100), 0, 100)).toBe(true);
    await host.settle();
    expect(host.frames.at(-1)!.queue).toBe(0);
    expect(host.frames).toHaveLength(7);
    await expect(dev.setChannels(0)).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    await expect(dev.setChannels(dev.ethtool().channels.maxCombined + 1)).rejects.toMatchObject({ code: 'BAD_CONFIG' });
  });

  test('MTU outside 68..65521 is refused', async () => {
    const { dev } = await bringUp();
    await expect(dev.setMtu(67)).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    await expect(dev.setMtu(65522)).rejects.toMatchObject({ code: 'BAD_CONFIG' });
  });
});
