// The guest's per-descriptor send-section ownership walk (issue 9, docs/robustness.md invariant 3):
// it holds on a real device with sends held by the host, and it bites when the map and the
// descriptors disagree (a section freed under an in-flight send, a section marked used by nobody).
import { expect, test } from 'vitest';
import { HostileHostWorld, sectionOwnership } from '../harness/fuzz-hostile-host.js';
import { InvariantError } from '../harness/fuzz-kit.js';

test('send-section ownership walk: holds with sends in flight, catches a freed or orphaned section', async () => {
  const w = await HostileHostWorld.create();
  await w.step({ k: 'hold', on: true });
  await w.step({ k: 'send', n: 12, len: 200, more: true, flags: 0 });
  await w.step({ k: 'send', n: 3, len: 900, more: false, flags: 1 });
  if (w.dev.state.kind !== 'attached') throw new Error('device not attached');
  const att = w.dev.state.att;
  expect(att.sections.inUse).toBeGreaterThan(0);
  sectionOwnership(att.queues, att.sections, 'held');
  // An orphan: a section marked in use that no request owns.
  const orphan = att.sections.alloc();
  expect(() => sectionOwnership(att.queues, att.sections, 'orphan')).toThrow(InvariantError);
  att.sections.free(orphan);
  // A section freed while its send is still in flight.
  let owned = -1;
  att.queues[0]!.tx.forEachOwnedSection((s) => (owned = s));
  expect(owned).toBeGreaterThanOrEqual(0);
  att.sections.free(owned);
  expect(() => sectionOwnership(att.queues, att.sections, 'freed')).toThrow(/marked free/);
  expect(att.sections.alloc()).toBe(owned); // put it back so the release below is sound
  await w.step({ k: 'hold', on: false });
  sectionOwnership(att.queues, att.sections, 'released');
  expect(att.sections.inUse).toBe(0);
  await w.finish();
});
