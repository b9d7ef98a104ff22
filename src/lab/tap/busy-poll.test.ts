// Busy-poll's loop contract without root or TAPs: an empty pass keeps the loop polling and gives
// the CPU away; once per yieldEveryMs it lets the loop sleep and rings it back from a setImmediate.
import { setImmediate as immediate } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { Doorbell, EventLoop, newHostDoorbellSab } from '../../vmbus/index.js';
import { BusyPoll, switchBusyPoll } from './busy-poll.js';

function loop(): EventLoop {
  return new EventLoop(Doorbell.host(newHostDoorbellSab()));
}

describe('BusyPoll', () => {
  test('an empty pass yields the CPU and asks the loop to poll again instead of sleeping', () => {
    let yielded = 0;
    const b = new BusyPoll(loop(), () => yielded++, 1e9);
    expect(b.poll()).toBe(0); // never work of its own
    expect(b.idle()).toBe(1);
    expect(b.idle()).toBe(1);
    expect(yielded).toBe(2);
    expect(b.yields).toBe(2);
    expect(b.breaks).toBe(0);
  });

  test('every yieldEveryMs it lets the loop sleep once and rings the doorbell from a setImmediate', async () => {
    const l = loop();
    let yielded = 0;
    const b = new BusyPoll(l, () => yielded++, 0);
    const seq = l.doorbell.seq;
    expect(b.idle()).toBe(0); // the break: the loop may sleep now
    expect(yielded).toBe(0);
    expect(b.breaks).toBe(1);
    expect(l.doorbell.seq).toBe(seq); // not yet: the worker's event loop runs first
    await immediate();
    expect(l.doorbell.seq).toBe(seq + 1); // ... then the ring brings the loop straight back
  });

  test('a running loop with a BusyPoll keeps polling its other pollables, and stops', async () => {
    const l = loop();
    let polls = 0;
    l.add({ poll: () => (polls++, 0), idle: () => 0 });
    const b = new BusyPoll(l, () => {}, 1);
    l.add(b);
    const running = l.start();
    // The test's own awaits only run because the poller lets the worker's event loop in (breaks).
    for (let i = 0; i < 500 && b.breaks < 3; i++) await new Promise((r) => setTimeout(r, 10));
    await l.stop();
    await running;
    expect(b.breaks).toBeGreaterThanOrEqual(3);
    // Nothing rang the doorbell, yet the loop kept passing over its pollables between breaks.
    expect(b.yields).toBeGreaterThan(b.breaks);
    expect(polls).toBeGreaterThan(b.yields);
  });

  test('switching off removes the poller from the loop (and needs no addon)', () => {
    const l = loop();
    const b = new BusyPoll(l, () => {}, 1e9);
    l.add(b);
    l.drain(10); // with the poller on, no pass is ever idle: all 10 run, each yielding
    expect(b.yields).toBe(10);
    expect(switchBusyPoll(l, b, false)).toBeNull();
    l.drain(10); // now the first idle pass ends it
    expect(b.yields).toBe(10);
    expect(switchBusyPoll(l, null, false)).toBeNull();
  });
});
