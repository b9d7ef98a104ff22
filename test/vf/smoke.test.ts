import { expect, test } from 'vitest';
import { VfTestbed } from '../../src/lab/vf/testbed.js';
import { SeqFlow } from '../../src/lab/vf/seq-flow.js';

test('smoke: VF shown, data path switched, traffic both ways over the VF', async () => {
  const tb = new VfTestbed({ showDelayMs: 5 });
  const a = await tb.bootVm();
  const b = await tb.bootVm();
  const ab = new SeqFlow(a.dev, a.mac, b.mac, 1, 128);
  const ba = new SeqFlow(b.dev, b.mac, a.mac, 2, 128);
  b.onFrame = (u8, off, len) => void ab.receive(u8, off, len);
  a.onFrame = (u8, off, len) => void ba.receive(u8, off, len);
  const t0 = performance.now();
  tb.addVf(a, 77);
  const step = (): void => {
    ab.pump(4);
    ba.pump(4);
  };
  await tb.waitFor('switched', () => a.dev.failover.dataPathIsVf && a.nic.vf.state.kind === 'switched', step, 200).catch((e) => { console.log(a.nic.vf.state, a.nic.vf.counters.snapshot(), a.dev.failover.path, a.dev.failover.events, a.dev.failover.assoc, a.dev.vf, a.dev.failover.counters.snapshot(), a.vfs.map((v) => [v.present, v.running, v.carrier])); throw e; });
  for (let i = 0; i < 50; i++) {
    step();
    await tb.tick();
  }
  await tb.waitFor('quiet', () => ab.result().lost === 0 && ba.result().lost === 0);
  console.log(performance.now() - t0, ab.result(), ba.result(), a.dev.stats().vf_tx_packets, a.dev.stats().vf_rx_packets, a.dev.failover.events);
  expect(a.dev.stats().vf_tx_packets).toBeGreaterThan(0);
  expect(a.dev.stats().vf_rx_packets).toBeGreaterThan(0);
});
