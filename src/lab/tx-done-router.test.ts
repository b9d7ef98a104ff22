import { describe, expect, it } from 'vitest';
import { TxArena } from './tap/tx-arena.js';
import { GEN_SLOT_BYTES, GEN_TOKEN_BASE, GenTxSlots } from './traffic/tx-slots.js';
import { TxDoneRouter } from './tx-done-router.js';

describe('TxDoneRouter', () => {
  it('sends arena tokens to the arena and generator tokens to the slots; strays and unregistered owners change nothing', () => {
    const r = new TxDoneRouter();
    r.route(0); // nothing registered yet: ignored, no throw
    r.route(GEN_TOKEN_BASE);
    const arena = new TxArena(0, 1 << 20, 65600, 8);
    const slots = new GenTxSlots(new Uint8Array(4 * GEN_SLOT_BYTES), 0, 4 * GEN_SLOT_BYTES);
    r.arena = arena;
    r.slots = slots;
    expect(arena.window()).toBe(true);
    const t = arena.add(arena.winStart, arena.winStart, 1514, false, 0);
    arena.readTo(arena.winStart + 1520);
    arena.taken(true);
    slots.busy[2] = 1;
    expect([arena.inFlight, slots.inFlight]).toEqual([1, 1]);
    r.route(GEN_TOKEN_BASE + 2);
    expect([arena.inFlight, slots.inFlight]).toEqual([1, 0]);
    r.route(t);
    expect([arena.inFlight, slots.inFlight]).toEqual([0, 0]);
    r.route(t); // twice: the arena ignores it
    r.route(GEN_TOKEN_BASE + 2); // twice: the slots count it
    expect([arena.inFlight, slots.inFlight, slots.badTokens]).toEqual([0, 0, 1]);
  });
});
