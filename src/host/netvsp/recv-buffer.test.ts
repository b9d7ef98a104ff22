// Receive-buffer bookkeeping against a hostile guest's completions (§4.2, §8 item 4): only a
// packet that went out can be completed, once.
import { describe, expect, test } from 'vitest';
import type { GpadlMapping } from '../../vmbus/index.js';
import { RecvBuffer } from './recv-buffer.js';

/** RecvBuffer only reads mapping.len; the sections are never written here. */
const mapping = (len: number): GpadlMapping => ({ len }) as GpadlMapping;

describe('RecvBuffer.complete', () => {
  test('the id of a burst still being filled is refused; after it is sent it completes once, and its sections come back', () => {
    const r = new RecvBuffer(mapping(32 * 1600), 1600);
    const slot = r.openPacket();
    const s = r.allocSection(false);
    r.chain(slot, s);
    const lo = slot + 1, hi = r.transIdHi(slot);
    expect(r.complete(lo, hi)).toBe(false); // guessed before it went out
    expect(r.sectionsInUse).toBe(1);
    expect(r.audit()).toBeNull();
    r.setFrames(slot, 1);
    expect(r.complete(lo, hi)).toBe(true);
    expect(r.complete(lo, hi)).toBe(false); // duplicate
    expect([r.sectionsInUse, r.packetsInFlight]).toEqual([0, 0]);
    expect(r.audit()).toBeNull();
  });

  test('the reopened slot (generation + 1) cannot be completed before it is sent either', () => {
    const r = new RecvBuffer(mapping(32 * 1600), 1600);
    const a = r.openPacket();
    r.chain(a, r.allocSection(false));
    r.setFrames(a, 1);
    expect(r.complete(a + 1, r.transIdHi(a))).toBe(true);
    const b = r.openPacket();
    r.chain(b, r.allocSection(false));
    expect(r.complete(b + 1, r.transIdHi(b))).toBe(false);
    expect([r.sectionsInUse, r.packetsInFlight]).toEqual([1, 1]);
    expect(r.audit()).toBeNull();
  });
});
