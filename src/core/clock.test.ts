import { describe, expect, test } from 'vitest';
import { ManualClock } from './clock.js';

describe('ManualClock', () => {
  test('advance() fires due timers in deadline order and skips cancelled ones', () => {
    const c = new ManualClock();
    const fired: string[] = [];
    c.after(30, () => fired.push('c'));
    c.after(10, () => fired.push('a'));
    const cancel = c.after(20, () => fired.push('b'));
    cancel();
    c.advance(25);
    expect(fired).toEqual(['a']);
    expect(c.now()).toBe(25);
    c.advance(5);
    expect(fired).toEqual(['a', 'c']);
  });

  test('a timer scheduled from a timer fires in the same advance() when due', () => {
    const c = new ManualClock();
    const at: number[] = [];
    c.after(5, () => c.after(5, () => at.push(c.now())));
    c.advance(20);
    expect(at).toEqual([10]);
  });
});
