// Issue 5 item 4: TX queue selection (protocol.md §3.9, §6.6). The host's send indirection table
// (NVSP 5 type 134) drives the guest's choice: queue = tx_table[hash & 15] mod queues, seen on the
// host as the channel the frame arrived on. rx-flow-hash udp4 sd|sdfn switches UDP flows between
// the address hash (one queue per address pair) and the L4 hash (spread by port).
import { describe, expect, test } from 'vitest';
import { buildUdp4Frame, classifyFrame, FlowKey, txHash } from '../../src/packet/index.js';
import * as W from '../../src/wire/index.js';
import { OffloadLab, testSpec, type LabGuest } from './harness.js';
import { closeLabsAfterEach } from './labs.js';

const labs = closeLabsAfterEach();

function udp(a: LabGuest, b: LabGuest, sport: number): Uint8Array {
  const s = testSpec(b.mac, a.mac, { srcPort: sport, dstPort: 9 });
  const out = new Uint8Array(128);
  return out.slice(0, buildUdp4Frame(out, 0, s, new Uint8Array(18), 0, 18));
}

/** Sends one frame with xmit() and returns the host channel it arrived on. */
async function hostQueueOf(lab: OffloadLab, a: LabGuest, f: Uint8Array): Promise<number> {
  const before = lab.hv.allNics[0]!.stats().queues.map((q) => q['tx_packets']!);
  expect(a.dev.xmit(f, 0, f.length, { csum: true, mss: 0 })).toBe(true);
  a.dev.flush();
  await lab.settle(1);
  const after = lab.hv.allNics[0]!.stats().queues.map((q) => q['tx_packets']!);
  const moved = after.map((v, i) => v - before[i]!).flatMap((d, i) => (d === 1 ? [i] : []));
  expect(moved).toHaveLength(1);
  return moved[0]!;
}

describe('TX queue selection (issue 5 item 4)', () => {
  test("the host's send table picks the channel; rx-flow-hash udp4 sd vs sdfn", async () => {
    const lab = new OffloadLab('ws2016');
    labs.push(lab);
    const a = await lab.guest('a', '00:15:5d:00:00:0a', { channels: 4 });
    const b = await lab.guest('b', '00:15:5d:00:00:0b');
    expect(a.dev.queueCount).toBe(4);
    // The table the host sent during bring-up (i mod 4).
    expect([...a.dev.txTable]).toEqual(Array.from({ length: 16 }, (_, i) => i % 4));
    const key = new FlowKey();
    const expected = (f: Uint8Array): number => {
      classifyFrame(f, 0, f.length, key);
      return a.dev.txTable[txHash(key, a.dev.txPrep.l4Hash, a.dev.txPrep.seed) & 15]! % 4;
    };
    const ports = Array.from({ length: 24 }, (_, i) => 20000 + i * 17);
    // sdfn (default): flows differing only in source port spread over several queues
    const l4 = new Set<number>();
    for (const p of ports) {
      const f = udp(a, b, p);
      const q = await hostQueueOf(lab, a, f);
      expect(q).toBe(expected(f));
      l4.add(q);
    }
    expect(l4.size).toBeGreaterThan(1);
    // sd: the same flows all hash by addresses only, so they share one queue
    a.dev.setRxFlowHash('udp4', 'sd');
    expect(a.dev.txPrep.l4Hash & W.HV_UDP4_L4HASH).toBe(0);
    const l3 = new Set<number>();
    for (const p of ports) l3.add(await hostQueueOf(lab, a, udp(a, b, p)));
    expect(l3.size).toBe(1);

    // The host sends a new table (every entry → channel 3): every flow now leaves on channel 3.
    const ch = lab.hv.allNics[0]!.coordinator.queues[0]!.ch;
    const msg = new Uint8Array(128);
    const len = W.emitNvsp({ type: W.NVSP_MSG5_TYPE_SEND_INDIRECTION_TABLE, count: 16, offset: 12, txTable: Array<number>(16).fill(3) }, new DataView(msg.buffer), 0);
    expect(ch.sendInband(0, 0, msg, 0, len)).toBe(true);
    ch.flush();
    await lab.settle(1);
    expect([...a.dev.txTable]).toEqual(Array<number>(16).fill(3));
    a.dev.setRxFlowHash('udp4', 'sdfn');
    for (const p of ports.slice(0, 6)) expect(await hostQueueOf(lab, a, udp(a, b, p))).toBe(3);
    // Every frame arrived whole at b.
    expect(b.rx.length).toBe(ports.length * 2 + 6);
  });
});
