import { describe, expect, test } from 'vitest';
import { ConfigError } from '../core/index.js';
import { checkOwnedName, emptyState, parseState, planTeardown, withLink, withNamespace, withoutLink, withoutNamespace } from './netns-state.js';

const P = 'nvsc-';

describe('netns state', () => {
  test('parseState() keeps only entries carrying the prefix and survives garbage', () => {
    expect(parseState('{not json', P)).toEqual(emptyState(P));
    expect(parseState('42', P)).toEqual(emptyState(P));
    const s = parseState(
      JSON.stringify({
        namespaces: ['nvsc-a', 'eth0', 'nvsc-a', 'nvsc-', 7, 'nvsc-$(rm)'],
        links: [{ name: 'nvsc-t0', netns: 'nvsc-a' }, { name: 'eth0', netns: null }, { name: 'nvsc-t1', netns: 'docker' }, { name: 'nvsc-t2', netns: null }, 'x'],
      }),
      P,
    );
    expect(s.namespaces).toEqual(['nvsc-a']);
    expect(s.links).toEqual([
      { name: 'nvsc-t0', netns: 'nvsc-a' },
      { name: 'nvsc-t2', netns: null },
    ]);
  });

  test('checkOwnedName() refuses foreign, empty-suffix, unsafe and over-long names', () => {
    expect(() => checkOwnedName(P, 'eth0', 'link')).toThrow(ConfigError);
    expect(() => checkOwnedName(P, 'nvsc-', 'link')).toThrow(ConfigError);
    expect(() => checkOwnedName(P, 'nvsc-a b', 'namespace')).toThrow(ConfigError);
    expect(() => checkOwnedName(P, 'nvsc-01234567890', 'link')).toThrow(/longer than 15/);
    expect(() => checkOwnedName(P, 'nvsc-01234567890', 'namespace')).not.toThrow();
  });

  test('with/without helpers add once and remove exactly one entry', () => {
    let s = withNamespace(withNamespace(emptyState(P), 'nvsc-a'), 'nvsc-a');
    s = withLink(withLink(s, { name: 'nvsc-t0', netns: null }), { name: 'nvsc-t0', netns: null });
    s = withLink(s, { name: 'nvsc-t1', netns: 'nvsc-a' });
    expect(s.namespaces).toEqual(['nvsc-a']);
    expect(s.links).toHaveLength(2);
    expect(withoutLink(s, { name: 'nvsc-t0', netns: null }).links).toEqual([{ name: 'nvsc-t1', netns: 'nvsc-a' }]);
    expect(withoutNamespace(s, 'nvsc-a')).toEqual({ ...s, namespaces: [], links: [{ name: 'nvsc-t0', netns: null }] });
  });

  test('planTeardown() takes recorded and prefixed objects that exist, and nothing foreign', () => {
    const s = withLink(withLink(withNamespace(emptyState(P), 'nvsc-gone'), { name: 'nvsc-t0', netns: null }), { name: 'nvsc-t9', netns: null });
    const plan = planTeardown(s, ['nvsc-b', 'docker-ns', 'nvsc'], ['lo', 'eth0', 'nvsc-t0', 'nvsc-v1', 'nvscx']);
    expect(plan.namespaces).toEqual(['nvsc-b']);
    expect(plan.links).toEqual([
      { name: 'nvsc-t0', netns: null },
      { name: 'nvsc-v1', netns: null },
    ]);
  });

  test('planTeardown() skips links that die with a namespace being deleted', () => {
    const s = withLink(withNamespace(emptyState(P), 'nvsc-a'), { name: 'nvsc-t0', netns: 'nvsc-a' });
    expect(planTeardown(s, ['nvsc-a'], ['lo'])).toEqual({ namespaces: ['nvsc-a'], links: [] });
  });
});
