import { describe, expect, test } from 'vitest';
import { GuestMemory, PAGE_SIZE } from './guest-memory.js';
import { checkRange, GpadlTable, MAX_PAGE_REFS, newContiguousRun } from './gpadl.js';

function setup() {
  const mem = GuestMemory.create(16);
  const table = new GpadlTable(mem.sab);
  // pages 5, 9, 10, 2: a run of two in the middle, the rest apart
  table.create(7, [5, 9, 10, 2]);
  return { mem, table };
}

describe('GpadlTable and GpadlMapping', () => {
  test('read() and write() cross non-contiguous pages at the right guest addresses', () => {
    const { mem, table } = setup();
    const m = table.map(7);
    const src = new Uint8Array(3 * PAGE_SIZE);
    for (let i = 0; i < src.length; i++) src[i] = (i * 13) & 0xff;
    m.write(100, src, 0, src.length);
    // byte 100 of the GPADL is byte 100 of PFN 5; byte 4096 is PFN 9; byte 3*4096 is PFN 2
    expect(mem.u8[5 * PAGE_SIZE + 100]).toBe(src[0]);
    expect(mem.u8[9 * PAGE_SIZE]).toBe(src[PAGE_SIZE - 100]);
    expect(mem.u8[2 * PAGE_SIZE + 99]).toBe(src[src.length - 1]);
    const back = new Uint8Array(src.length);
    m.read(100, back, 0, back.length);
    expect(back).toEqual(src);
  });

  test('contiguous() returns the longest physical run and the caller loops for the rest', () => {
    const { table } = setup();
    const m = table.map(7);
    const run = newContiguousRun();
    expect(m.contiguous(10, 4 * PAGE_SIZE - 10, run)).toBe(PAGE_SIZE - 10);
    expect(run.offset).toBe(5 * PAGE_SIZE + 10);
    expect(m.contiguous(PAGE_SIZE, 3 * PAGE_SIZE, run)).toBe(2 * PAGE_SIZE); // PFNs 9,10
    expect(run.offset).toBe(9 * PAGE_SIZE);
    expect(m.contiguous(3 * PAGE_SIZE, 8, run)).toBe(8);
  });

  test('copyTo() moves bytes between two mappings across page boundaries', () => {
    const { table } = setup();
    table.create(8, [12, 11]);
    const a = table.map(7);
    const b = table.map(8);
    const src = Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff);
    a.write(4000, src, 0, 5000);
    b.write(0, new Uint8Array(8192), 0, 8192);
    a.copyTo(4000, b, 3000, 5000);
    const out = new Uint8Array(5000);
    b.read(3000, out, 0, 5000);
    expect(out).toEqual(src);
  });

  test('checkRange() and every access reject ranges outside the GPADL with BAD_GPADL', () => {
    const { table } = setup();
    const m = table.map(7);
    const bad = expect.objectContaining({ code: 'BAD_GPADL' });
    expect(() => checkRange(m, 4 * PAGE_SIZE - 4, 8)).toThrow(bad);
    expect(() => checkRange(m, -1, 1)).toThrow(bad);
    expect(() => m.read(4 * PAGE_SIZE, new Uint8Array(1), 0, 1)).toThrow(bad);
    expect(() => checkRange(m, 0, 4 * PAGE_SIZE)).not.toThrow();
    expect(() => table.map(99)).toThrow(bad);
  });

  test('create() rejects a reused handle, PFN 0 and pages outside guest memory', () => {
    const { table } = setup();
    const bad = expect.objectContaining({ code: 'BAD_GPADL' });
    expect(() => table.create(7, [3])).toThrow(bad);
    expect(() => table.create(20, [16])).toThrow(bad);
    expect(() => table.create(21, [0])).toThrow(bad);
    expect(() => table.create(22, [3], 4097)).toThrow(bad);
  });

  test('teardown while mapped is refused with BUSY; requestTeardown() waits for the last unmap', () => {
    const { table } = setup();
    const m1 = table.map(7);
    const m2 = table.map(7);
    expect(() => table.teardown(7)).toThrow(expect.objectContaining({ code: 'BUSY' }));
    let done = 0;
    expect(table.requestTeardown(7, () => done++)).toBe('deferred');
    m1.unmap();
    expect(done).toBe(0);
    m2.unmap();
    m2.unmap(); // idempotent
    expect(done).toBe(1);
    expect(table.has(7)).toBe(false);
  });

  test('readGpa() accepts pages inside some GPADL and rejects pages outside every GPADL', () => {
    const { mem, table } = setup();
    mem.u8.set([1, 2, 3], 9 * PAGE_SIZE + PAGE_SIZE - 1);
    const out = new Uint8Array(3);
    table.readGpa(9, 2, PAGE_SIZE - 1, 3, out, 0);
    expect([...out]).toEqual([1, 2, 3]);
    const bad = expect.objectContaining({ code: 'BAD_GPADL' });
    expect(() => table.readGpa(3, 1, 0, 4, out, 0)).toThrow(bad);
    expect(() => table.readGpa(10, 2, 0, 4, out, 0)).toThrow(bad); // page 11 is not described
    expect(() => table.readGpa(9, 1, 4000, 200, out, 0)).toThrow(bad); // runs past the pages named
  });

  test('gpaOffset() makes readGpa()\'s checks and names where the bytes lie in memory', () => {
    const { mem, table } = setup();
    mem.u8.set([1, 2, 3], 9 * PAGE_SIZE + PAGE_SIZE - 1);
    const at = table.gpaOffset(9, 2, PAGE_SIZE - 1, 3);
    expect(at).toBe(10 * PAGE_SIZE - 1);
    expect([...table.memory.subarray(at, at + 3)]).toEqual([1, 2, 3]);
    const bad = expect.objectContaining({ code: 'BAD_GPADL' });
    expect(() => table.gpaOffset(3, 1, 0, 4)).toThrow(bad);
    expect(() => table.gpaOffset(10, 2, 0, 4)).toThrow(bad);
    expect(() => table.gpaOffset(9, 1, 4000, 200)).toThrow(bad);
  });

  test('create() refuses a GPADL past maxGpadls with LIMIT; a teardown frees a slot', () => {
    const mem = GuestMemory.create(16);
    const table = new GpadlTable(mem.sab, { maxGpadls: 3 });
    for (let h = 1; h <= 3; h++) table.create(h, [h]);
    expect(table.full).toBe(true);
    expect(() => table.create(4, [4])).toThrow(expect.objectContaining({ code: 'LIMIT' }));
    expect([table.size, table.has(4), table.pagesDescribed(4, 1)]).toEqual([3, false, false]);
    table.teardown(2);
    table.create(4, [4]);
    expect([table.size, table.has(4), table.pagesDescribed(4, 1)]).toEqual([3, true, true]);
  });

  test('a page repeated in PFN lists is counted up to MAX_PAGE_REFS, then refused with LIMIT instead of wrapping', () => {
    const mem = GuestMemory.create(16);
    const table = new GpadlTable(mem.sab);
    // A GPADL header holds at most 8190 PFNs; a hostile guest may repeat one page in all of them.
    const full = Math.floor(MAX_PAGE_REFS / 8190);
    for (let h = 1; h <= full; h++) table.create(h, new Array<number>(8190).fill(3));
    table.create(100, new Array<number>(MAX_PAGE_REFS - full * 8190).fill(3)); // page 3 now in exactly 65535 entries
    // Page 5 comes first in the refused list: its count is rolled back with the refusal.
    expect(() => table.create(101, [5, 3])).toThrow(expect.objectContaining({ code: 'LIMIT' }));
    expect([table.has(101), table.pagesDescribed(5, 1), table.pagesDescribed(3, 1)]).toEqual([false, false, true]);
    // Freeing entries makes room again, and once every GPADL is gone the page is described by none.
    table.teardown(100);
    table.create(101, [5, 3]);
    for (const h of [101, ...Array.from({ length: full }, (_, i) => i + 1)]) table.teardown(h);
    expect([table.size, table.pagesDescribed(3, 1), table.pagesDescribed(5, 1)]).toEqual([0, false, false]);
  });
});
