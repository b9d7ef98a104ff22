// The guest's per-descriptor send-section ownership walk (issue 9, docs/robustness.md invariant 3):
// it holds on a real device with sends held by the host, and it bites when the map and the
// descriptors disagree (a section freed under an in-flight send, a section marked used by nobody).
import { expect, test } from 'vitest';
import { HostileHostWorld, sectionOwnership } from '../harness/fuzz-hostile-host.js';
import { HostileGuestWorld } from '../harness/fuzz-hostile-guest.js';
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

// The hostile guest's channel agreement (docs/robustness.md invariant 6) bites too: a host that
// keeps a sub-channel's NetVSP queue after the guest closed it (planted here by patching the
// coordinator for this test only) is caught on the action that closes it.
test('channel agreement: a host that keeps a closed sub-channel queue is caught', async () => {
  const w = await HostileGuestWorld.create();
  type Closer = { channelClosed(ch: { subChannelIndex: number }): void };
  const proto = Object.getPrototypeOf(w.a.nic.coordinator) as Closer;
  const orig = proto.channelClosed;
  proto.channelClosed = function (this: Closer, ch) {
    if (ch.subChannelIndex === 0) orig.call(this, ch);
  };
  try {
    await w.step({ k: 'subOpen', n: 2, open: 2, sends: 1, closeMidStream: 'none', complete: true });
    expect(w.a.nic.coordinator.openQueues()).toHaveLength(3);
    await expect(w.step({ k: 'subClose', n: 1 })).rejects.toThrow(/channels of A open on the host but 3 queues/);
  } finally {
    proto.channelClosed = orig;
  }
});
