// Needs the compiled workers: `npx tsc -p tsconfig.json` first (npm test does it).
import { describe, expect, test } from 'vitest';
import { runRingWorkers } from '../../test/harness/ring-workers.js';

describe('two real workers', () => {
  test('host and guest exchange millions of sequence-numbered packets through the rings with zero errors', async () => {
    const { host, guest } = await runRingWorkers({ toHost: 4_000_000, toGuest: 2_000_000, payloadLen: 64, ringPages: 32 });
    expect(host).toMatchObject({ received: 4_000_000, errors: 0 });
    expect(guest).toMatchObject({ received: 2_000_000, errors: 0 });
    expect(host.counters.ring_corrupt).toBe(0);
    expect(guest.counters.ring_corrupt).toBe(0);
  });

  test('1500-byte packets with a small ring exercise back-pressure and wrap-around across threads', async () => {
    const { host, guest } = await runRingWorkers({ toHost: 200_000, toGuest: 100_000, payloadLen: 1500, ringPages: 4 });
    expect(host).toMatchObject({ received: 200_000, errors: 0 });
    expect(guest).toMatchObject({ received: 100_000, errors: 0 });
    expect(guest.counters.out_full_total! + host.counters.out_full_total!).toBeGreaterThan(0);
  });
});
