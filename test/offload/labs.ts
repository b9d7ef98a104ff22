// The offload tests' one cleanup rule: every OffloadLab a test makes is closed after it, even when
// the test failed. Kept out of harness.ts, which the benches load without vitest.
import { afterEach } from 'vitest';
import type { OffloadLab } from './harness.js';

/** Registers an afterEach that closes, newest first, every lab pushed onto the returned list. */
export function closeLabsAfterEach(): OffloadLab[] {
  const labs: OffloadLab[] = [];
  afterEach(async () => {
    while (labs.length > 0) await labs.pop()!.close();
  });
  return labs;
}
