// Fault injection (issue 9 item 3): lost signals, delayed and reordered completions, a ring left
// full for a long time, a VM that dies, and a NIC rescinded and re-offered under a real guest
// driver mid-traffic. Each fault ends with the same invariants as the fuzzers.
import { describe, expect, test } from 'vitest';
import * as W from '../../src/wire/index.js';
import { HypervHost } from '../../src/host/index.js';
import { NetvscDevice } from '../../src/guest/netvsc/index.js';
import { ScriptedGuest, TestLab } from '../harness/scripted-guest.js';
import { boundedSettle } from '../harness/fuzz-kit.js';
import { fullBringUp, sendFrames, testFrame } from '../harness/fuzz-hostile-guest.js';

const MAC = (n: number): string => `00:15:5d:00:00:${n.toString(16).padStart(2, '0')}`;
const MACB = (n: number): number[] => [0, 0x15, 0x5d, 0, 0, n];

async function lab(n: number): Promise<{ lab: TestLab; g: ScriptedGuest[] }> {
  const l = new TestLab(new HypervHost({ profile: 'ws2019', ageingMs: 0 }));
  l.settle = async () => {
    await boundedSettle(l.loop, 'helper');
  };
  const g: ScriptedGuest[] = [];
  for (let i = 1; i <= n; i++) {
    const x = await ScriptedGuest.create(l, `vm${i}`, { mac: MAC(i) });
    await fullBringUp(x);
    g.push(x);
  }
  return { lab: l, g };
}

/** Every NIC's receive sections are free or owned once; with nothing outstanding, all are free. */
function sound(l: TestLab, idle: boolean): void {
  for (const nic of l.hv.allNics) {
    const r = nic.coordinator.recv;
    if (!r) continue;
    expect(r.audit(), nic.name).toBeNull();
    if (idle) expect(r.sectionsInUse, nic.name).toBe(0);
  }
}

/** from → to: one frame arrives intact and the send completes SUCCESS. */
async function exchange(l: TestLab, from: ScriptedGuest, to: ScriptedGuest, toMac: number[], fromMac: number[], seed: number): Promise<void> {
  const f = testFrame(toMac, fromMac, 500, seed);
  const before = to.rx.length;
  const cookie = sendFrames(from, seed % 8, [f]);
  await boundedSettle(l.loop, 'exchange');
  expect(to.frames(to.rx.slice(before)).some((x) => x.data.length === f.length && x.data.every((v, i) => v === f[i]))).toBe(true);
  expect(new DataView(from.completions.get(cookie)!.buffer).getUint32(4, true)).toBe(W.NVSP_STAT_SUCCESS);
  to.completeRx();
  await boundedSettle(l.loop, 'exchange');
}

describe('fault injection against the real host', () => {
  test('lost signal: completions published without a doorbell are still picked up, nothing leaks', async () => {
    const { lab: l, g } = await lab(2);
    const [a, b] = g as [ScriptedGuest, ScriptedGuest];
    for (let i = 0; i < 20; i++) sendFrames(a, i % 8, [testFrame(MACB(2), MACB(1), 100 + i, i)]);
    await boundedSettle(l.loop, 'burst');
    expect(b.rx.length).toBeGreaterThan(0);
    // Write every completion and publish the write index, but never signal (ch.tx.flush, not ch.flush).
    const body = new Uint8Array(W.NVSP_MESSAGE_SIZE);
    W.emitNvsp({ type: W.NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, status: 1 }, new DataView(body.buffer), 0);
    for (const r of b.rx.splice(0)) b.ch.sendCompletion(r.lo, r.hi, body, 0, 8);
    const signalled = b.ch.tx.flush();
    expect(typeof signalled).toBe('boolean');
    await boundedSettle(l.loop, 'no signal');
    sound(l, true);
    await exchange(l, a, b, MACB(2), MACB(1), 1);
  });

  test('delayed and reordered completions: 60 packets completed last-first, sections all return', async () => {
    const { lab: l, g } = await lab(2);
    const [a, b] = g as [ScriptedGuest, ScriptedGuest];
    for (let i = 0; i < 60; i++) {
      sendFrames(a, i % 8, [testFrame(MACB(2), MACB(1), 1400, i)]);
      await boundedSettle(l.loop, 'send');
    }
    const held = b.rx.splice(0);
    expect(held.length).toBeGreaterThan(10);
    sound(l, false);
    held.reverse();
    // Complete in a shuffled order: odd positions first, then even ones.
    const order = [...held.filter((_, i) => i % 2 === 1), ...held.filter((_, i) => i % 2 === 0)];
    b.rx.push(...order);
    b.completeRx();
    await boundedSettle(l.loop, 'complete');
    sound(l, true);
    await exchange(l, a, b, MACB(2), MACB(1), 2);
  });

  test('a ring full for a long time (a VM that stops reading): the sender and a third VM are unaffected', async () => {
    const { lab: l, g } = await lab(3);
    const [a, b, c] = g as [ScriptedGuest, ScriptedGuest, ScriptedGuest];
    l.loop.remove(b.ch); // B stops polling: its ring fills, its sections stay taken
    let ok = 0;
    for (let i = 0; i < 400; i++) {
      const ck = sendFrames(a, i % 8, [testFrame(MACB(2), MACB(1), 1000, i)]);
      await boundedSettle(l.loop, 'flood');
      if (a.completions.get(ck) !== undefined) ok++;
      a.completions.delete(ck);
      if (i % 50 === 0) await exchange(l, a, c, MACB(3), MACB(1), i);
    }
    expect(ok).toBe(400); // A is completed even though B cannot take its frames
    const q = b.nic.stats().queues[0]!;
    expect(q['rx_dropped_no_section']! + q['rx_dropped_ring_full']!).toBeGreaterThan(0);
    sound(l, false);
    l.loop.add(b.ch); // B comes back
    await boundedSettle(l.loop, 'resume');
    b.completeRx();
    await boundedSettle(l.loop, 'resume');
    sound(l, true);
    await exchange(l, a, b, MACB(2), MACB(1), 3);
  });

  test('a VM that dies mid-traffic: its NIC is removed, the host reclaims it, the others keep running', async () => {
    const { lab: l, g } = await lab(3);
    const [a, b, c] = g as [ScriptedGuest, ScriptedGuest, ScriptedGuest];
    for (let i = 0; i < 30; i++) sendFrames(b, i % 8, [testFrame(MACB(1), MACB(2), 900, i)]);
    await boundedSettle(l.loop, 'traffic to A');
    expect(a.nic.coordinator.recv!.sectionsInUse).toBeGreaterThan(0);
    // A's worker is gone: nothing of it runs again; the host takes its NIC away.
    l.loop.remove(a.ch);
    const recv = a.nic.coordinator.recv!;
    l.hv.removeNic(a.nic);
    await boundedSettle(l.loop, 'remove');
    expect(l.hv.allNics).not.toContain(a.nic);
    expect(a.nic.coordinator.recv).toBeNull();
    expect(recv.mapping).toBeDefined();
    expect(recv.mapping.mapped).toBe(false); // the host released the receive buffer's GPADL mapping
    for (let i = 0; i < 20; i++) sendFrames(b, i % 8, [testFrame(MACB(1), MACB(2), 900, i)]); // to the dead MAC: dropped by the switch
    await boundedSettle(l.loop, 'after');
    await exchange(l, b, c, MACB(3), MACB(2), 4);
    await exchange(l, c, b, MACB(2), MACB(3), 5);
    sound(l, true);
  });
});

/** Runs a promise to completion while pumping the one-thread loop (bounded). */
async function pump<T>(l: TestLab, p: Promise<T>): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown = null;
  p.then((v) => ((done = true), (value = v)), (e: unknown) => ((done = true), (error = e ?? new Error('rejected'))));
  for (let i = 0; i < 20_000 && !done; i++) {
    l.loop.drain(20_000);
    await new Promise<void>((r) => setImmediate(r));
  }
  if (!done) throw new Error('pump: promise did not settle');
  if (error !== null) throw error;
  return value as T;
}

describe('rescind and re-offer under the real guest driver', () => {
  test('the NIC is rescinded mid-traffic and offered again: the old device reports cleanly, a new probe passes traffic', async () => {
    const l = new TestLab(new HypervHost({ profile: 'ws2019', ageingMs: 0 }));
    const peer = await ScriptedGuest.create(l, 'peer', { mac: MAC(2) });
    await fullBringUp(peer);
    const vm = l.vm('guest');
    l.hv.addNic('guest', { mac: MAC(1) });
    await pump(l, vm.guest.requestOffers());
    const probe = () => NetvscDevice.probe({ bus: vm.guest, memory: vm.memory, allocator: vm.allocator, loop: l.loop, rxSections: 64, txSections: 32, ringPages: 16, poolSlots: 4 });
    const freeBefore = vm.allocator.freePages;
    const dev = await pump(l, probe());
    await pump(l, dev.open());
    let accepted = 0;
    let refused = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) {
        const f = testFrame(MACB(2), MACB(1), 200 + i, i);
        if (dev.send(f, 0, f.length, null, i < 19)) accepted++;
        else refused++;
      }
      if (round === 1) l.hv.removeNic(l.hv.allNics.find((n) => n.vmId === 'guest')!); // rescind mid-traffic
      await boundedSettle(l.loop, `round ${round}`);
      peer.completeRx();
    }
    expect(accepted).toBeGreaterThanOrEqual(20);
    expect(refused).toBeGreaterThan(0); // after the rescind send() says no instead of throwing
    // The old device's removal completes without the host (nobody is left on the rescinded channel)
    // and gives back every guest page: rings, buffers, pool (seed hostile-host-rescind-remove-leak).
    await pump(l, dev.remove());
    expect(vm.allocator.freePages).toBe(freeBefore);
    // Re-offer: a fresh NIC for the same VM, a fresh probe, traffic flows to the peer.
    l.hv.addNic('guest', { mac: MAC(1) });
    await pump(l, vm.guest.requestOffers());
    const offer = [...vm.guest.offers.values()].find((o) => o.ifType === W.HV_NIC_GUID && o.subChannelIndex === 0);
    expect(offer).toBeDefined();
    const dev2 = await pump(l, NetvscDevice.probe({ bus: vm.guest, memory: vm.memory, allocator: vm.allocator, loop: l.loop, offer: offer!, rxSections: 64, txSections: 32, ringPages: 16, poolSlots: 4 }));
    await pump(l, dev2.open());
    const before = peer.rx.length;
    const f = testFrame(MACB(2), MACB(1), 333, 9);
    expect(dev2.send(f, 0, f.length)).toBe(true);
    await boundedSettle(l.loop, 'after re-offer');
    expect(peer.frames(peer.rx.slice(before)).some((x) => x.data.length === 333 && x.data.every((v, i) => v === f[i]))).toBe(true);
    peer.completeRx();
    await boundedSettle(l.loop, 'end');
    for (const nic of l.hv.allNics) expect(nic.coordinator.recv?.audit() ?? null).toBeNull();
  });
});
