import { describe, expect, test } from 'vitest';
import { ChannelSignal, Doorbell, newHostDoorbellSab, SIGNAL_SAB_BYTES, CHANNEL_STATE_FAILED } from './signal.js';

describe('signals', () => {
  test('signalPeer() sets bit child_relid in the peer half of the interrupt page and rings its doorbell', () => {
    const sab = new SharedArrayBuffer(SIGNAL_SAB_BYTES);
    const hostBell = Doorbell.host(newHostDoorbellSab());
    const guestBell = Doorbell.guest(sab);
    const g = new ChannelSignal(sab, 33, 'guest', hostBell);
    const h = new ChannelSignal(sab, 33, 'host', guestBell);
    g.signalPeer();
    const u32 = new Uint32Array(sab);
    expect(u32[2048 / 4 + 1]).toBe(1 << 1); // guest→host half, relid 33 = word 1 bit 1
    expect(hostBell.seq).toBe(1);
    expect(hostBell.notified).toBe(0); // nobody asleep: no notify
    expect(h.take()).toBe(true);
    expect(h.take()).toBe(false);
    h.signalPeer();
    expect(u32[1]).toBe(2);
    expect(g.take()).toBe(true);
    h.setState(CHANNEL_STATE_FAILED);
    expect(g.state).toBe(CHANNEL_STATE_FAILED);
  });

  test('wait() returns when the doorbell rings, without blocking the event loop', async () => {
    const bell = Doorbell.host(newHostDoorbellSab());
    const seen = bell.seq;
    let timerRan = false;
    setTimeout(() => {
      timerRan = true;
      bell.ring();
    }, 5);
    await bell.wait(seen);
    expect(timerRan).toBe(true);
    expect(bell.notified).toBe(1);
  });
});
