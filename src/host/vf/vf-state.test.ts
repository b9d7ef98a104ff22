import { describe, expect, test } from 'vitest';
import { ProtocolError } from '../../core/index.js';
import * as S from './vf-state.js';

const all: S.HostVfState[] = [
  { kind: 'none' },
  { kind: 'initializing', serial: 7 },
  { kind: 'available', serial: 7 },
  { kind: 'advertised', serial: 7 },
  { kind: 'ready', serial: 7 },
  { kind: 'switchPending', serial: 7, toVf: true },
  { kind: 'switched', serial: 7 },
  { kind: 'synthetic', serial: 7 },
  { kind: 'unavailable', serial: 7, from: 'switched', planned: true },
];

function kindAfter(f: () => S.HostVfState): string {
  try {
    return f().kind;
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('UNEXPECTED_MESSAGE');
    return 'UNEXPECTED';
  }
}

describe('host VF state machine (one function per event, illegal → UNEXPECTED_MESSAGE)', () => {
  test('the openvmm sequence: add → available → advertised → ready → switched → synthetic → unavailable → none', () => {
    let s: S.HostVfState = { kind: 'none' };
    s = S.onVfAdded(s, 7, false);
    expect(s).toEqual({ kind: 'initializing', serial: 7 });
    s = S.onGuestSriov(s);
    s = S.onShowDelayElapsed(s);
    expect(s.kind).toBe('advertised');
    s = S.onVfShown(s);
    s = S.onGuestSwitch(s, true);
    expect(s).toEqual({ kind: 'switchPending', serial: 7, toVf: true });
    s = S.onSwitchApplied(s);
    expect(s.kind).toBe('switched');
    s = S.onHostSwitchBack(s);
    expect(s.kind).toBe('synthetic');
    s = S.onRemoveStarted(s, true);
    expect(s).toEqual({ kind: 'unavailable', serial: 7, from: 'synthetic', planned: true });
    expect(S.onRemoved(s)).toEqual({ kind: 'none' });
  });

  test('a VF added after the guest negotiated SR-IOV starts in available', () => {
    expect(S.onVfAdded({ kind: 'none' }, 3, true)).toEqual({ kind: 'available', serial: 3 });
  });

  test('SWITCH_DATA_PATH(1) in every state: only ready and synthetic move, switched repeats, the rest are illegal', () => {
    const got = Object.fromEntries(all.map((s) => [s.kind, kindAfter(() => S.onGuestSwitch(s, true))]));
    expect(got).toEqual({
      none: 'UNEXPECTED', initializing: 'UNEXPECTED', available: 'UNEXPECTED', advertised: 'UNEXPECTED',
      ready: 'switchPending', switchPending: 'UNEXPECTED', switched: 'switched', synthetic: 'switchPending', unavailable: 'UNEXPECTED',
    });
  });

  test('SWITCH_DATA_PATH(0) is legal everywhere except during a pending switch (the guest may race a removal)', () => {
    const got = Object.fromEntries(all.map((s) => [s.kind, kindAfter(() => S.onGuestSwitch(s, false))]));
    expect(got).toEqual({
      none: 'none', initializing: 'initializing', available: 'available', advertised: 'advertised',
      ready: 'ready', switchPending: 'UNEXPECTED', switched: 'switchPending', synthetic: 'synthetic', unavailable: 'unavailable',
    });
  });

  test('every other event is legal in exactly the states the table in docs/vf.md lists', () => {
    const row = (f: (s: S.HostVfState) => S.HostVfState): string[] => all.map((s) => kindAfter(() => f(s)));
    expect(row((s) => S.onVfAdded(s, 1, false))).toEqual(['initializing', ...Array(8).fill('UNEXPECTED')]);
    expect(row(S.onGuestSriov)).toEqual(['UNEXPECTED', 'available', ...Array(7).fill('UNEXPECTED')]);
    expect(row(S.onShowDelayElapsed)).toEqual(['UNEXPECTED', 'UNEXPECTED', 'advertised', ...Array(6).fill('UNEXPECTED')]);
    expect(row(S.onVfShown)).toEqual([...Array(3).fill('UNEXPECTED'), 'ready', ...Array(5).fill('UNEXPECTED')]);
    expect(row(S.onSwitchApplied)).toEqual([...Array(5).fill('UNEXPECTED'), 'switched', ...Array(3).fill('UNEXPECTED')]);
    expect(row(S.onHostSwitchBack)).toEqual([...Array(4).fill('UNEXPECTED'), 'ready', 'UNEXPECTED', 'synthetic', 'synthetic', 'UNEXPECTED']);
    expect(row((s) => S.onRemoveStarted(s, false))).toEqual(['UNEXPECTED', ...Array(7).fill('unavailable'), 'UNEXPECTED']);
    expect(row(S.onRemoved)).toEqual([...Array(8).fill('UNEXPECTED'), 'none']);
    expect(row(S.onGuestReset)).toEqual(['none', 'initializing', ...Array(6).fill('initializing'), 'unavailable']);
  });
});
