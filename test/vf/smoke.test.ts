import { expect, test } from 'vitest';
import { VfTestbed } from '../../src/lab/vf/testbed.js';
import { SeqFlow } from '../../src/lab/vf/seq-flow.js';

test('a VF is shown, the data path switches, traffic flows both ways over it in order; the VF keeps its own queues and stats', async () => {
  const tb = new VfTestbed({ showDelayMs: 5 });
  const a = await tb.bootVm();
  const b = await tb.bootVm();
  const ab = new SeqFlow(a.dev, a.mac, b.mac, 1, 128);
  const ba = new SeqFlow(b.dev, b.mac, a.mac, 2, 128);
  b.onFrame = (u8, off, len) => void ab.receive(u8, off, len);
  a.onFrame = (u8, off, len) => void ba.receive(u8, off, len);
  tb.addVf(a, 77);
  const step = (): void => {
    ab.pump(4);
    ba.pump(4);
  };
  await tb.waitFor('switched', () => a.dev.failover.dataPathIsVf && a.nic.vf.state.kind === 'switched', step, 200);
  for (let i = 0; i < 50; i++) {
    step();
    await tb.tick();
  }
  await tb.waitFor('quiet', () => ab.result().lost === 0 && ba.result().lost === 0);
  expect(ab.result()).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, corrupt: 0 });
  expect(ba.result()).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, corrupt: 0 });
  expect(a.dev.failover.events.map((e) => e.what)).toEqual(['vfAdded', 'dataPathSwitched']);
  // The VF stays a device of its own: its queue count and statistics are read and set directly.
  const vf = a.vfs[0]!;
  expect(vf.stats().tx_packets).toBe(a.dev.stats().vf_tx_packets);
  expect(vf.stats().rx_packets).toBe(a.dev.stats().vf_rx_packets);
  vf.setQueueCount(1);
  expect(vf.queueCount).toBe(1);
  expect(() => vf.setQueueCount(3)).toThrow(/queues 3/);
  vf.clearStats();
  expect(vf.stats().rx_packets).toBe(0);  expect(a.dev.stats().vf_tx_packets).toBeGreaterThan(0);
  expect(a.dev.stats().vf_rx_packets).toBeGreaterThan(0);
});
