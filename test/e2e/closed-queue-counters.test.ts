// A host queue's counters outlive the queue: each -G/-L/MTU change closes and reopens the NIC's
// channels, and a drop counted on a queue that is gone must still show in the NIC's snapshot
// (drops by reason), or a re-attach would make it silent.
import { describe, expect, test } from 'vitest';
import { snapshotNic } from '../../src/lab/run/nic-snapshot.js';
import { newLab } from './fixtures.js';

function macBytes(mac: string): number[] {
  return mac.split(':').map((x) => parseInt(x, 16));
}

describe('host queue counters across a re-attach', () => {
  test('frames dropped as too big before -G still count after it, and the closed queues keep their traffic', async () => {
    const lab = await newLab({ profile: 'azure', mode: 'single-thread' });
    const a = (await lab.addVm({ name: 'a', nics: [{ mtu: 9000 }] })).nics[0]!;
    const b = (await lab.addVm({ name: 'b' })).nics[0]!; // MTU 1500: 4000-byte frames do not fit its sections
    const frame = (len: number, i: number): Uint8Array => {
      const f = new Uint8Array(len);
      f.set(macBytes(b.mac), 0);
      f.set(macBytes(a.mac), 6);
      f[12] = 0x88;
      f[13] = 0xb5;
      f[14] = i;
      return f;
    };
    await lab.writeFrames(a.port, [...Array.from({ length: 5 }, (_, i) => frame(4000, i)), ...Array.from({ length: 7 }, (_, i) => frame(100, i))]);
    await lab.waitFor('12 frames through b\'s host queue', async () => {
      const s = await b.stats();
      const q = s.host.queues[0]!;
      return (q['rx_dropped_too_big'] ?? 0) === 5 && (q['rx_packets'] ?? 0) === 7;
    });
    expect((await snapshotNic(b)).drops['host_rx_dropped_too_big']).toBe(5);

    await b.setRing({ rx: 600, tx: 40 }); // detach + attach: b's channels close and reopen
    const s = await b.stats();
    expect(s.host.queues[0]!['rx_dropped_too_big'] ?? 0).toBe(0); // a new queue starts from zero, as before
    expect(s.host.closedQueues['rx_dropped_too_big']).toBe(5);
    expect(s.host.closedQueues['rx_packets']).toBeGreaterThanOrEqual(7);
    expect((await snapshotNic(b)).drops['host_rx_dropped_too_big']).toBe(5);
  });
});
