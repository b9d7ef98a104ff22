// Imports point down, never up (docs/design.md): this test reads every import under src/
// and fails on an arrow that points up or sideways between host and guest.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, test } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  wire: ['core'],
  packet: ['core', 'wire'],
  vmbus: ['core', 'wire'],
  host: ['core', 'wire', 'packet', 'vmbus'],
  guest: ['core', 'wire', 'packet', 'vmbus'],
  io: ['core', 'wire', 'packet'],
  lab: ['core', 'wire', 'packet', 'vmbus', 'host', 'guest', 'io'],
  cli: ['core', 'wire', 'packet', 'vmbus', 'host', 'guest', 'io', 'lab'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('layering', () => {
  test('every import under src/ points down the layer map', () => {
    const bad: string[] = [];
    for (const f of files(SRC)) {
      const layer = relative(SRC, f).split(/[\\/]/)[0]!;
      const allowed = ALLOWED[layer];
      if (!allowed) {
        bad.push(`${relative(SRC, f)}: folder ${layer} is not in the layer map`);
        continue;
      }
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
        const target = relative(SRC, resolve(dirname(f), m[1]!)).split(/[\\/]/)[0]!;
        if (target !== layer && !allowed.includes(target)) bad.push(`${relative(SRC, f)} imports ${m[1]} (${layer} → ${target})`);
      }
    }
    expect(bad).toEqual([]);
  });
});
