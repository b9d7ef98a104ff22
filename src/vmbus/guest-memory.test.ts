import { describe, expect, test } from 'vitest';
import { GuestMemory, PageAllocator, PAGE_SIZE } from './guest-memory.js';

describe('GuestMemory and PageAllocator', () => {
  test('memory is one SharedArrayBuffer of whole pages', () => {
    const m = GuestMemory.create(8);
    expect(m.sab).toBeInstanceOf(SharedArrayBuffer);
    expect(m.pageCount).toBe(8);
    expect(m.gpa(3)).toBe(3 * PAGE_SIZE);
    expect(() => new GuestMemory(new SharedArrayBuffer(100))).toThrow(/whole 4 KiB pages/);
  });

  test('allocContiguous() finds a run, skips PFN 0 and throws LIMIT when none fits', () => {
    const a = new PageAllocator(10);
    expect(a.allocContiguous(3)).toBe(1);
    expect(a.allocContiguous(2)).toBe(4);
    a.freeRun(1, 3);
    expect(a.allocContiguous(3)).toBe(1);
    expect(() => a.allocContiguous(5)).toThrow(expect.objectContaining({ code: 'LIMIT' }));
    expect(a.freePages).toBe(4);
  });

  test('allocPages(n, scatter) returns pages that are not contiguous, and free() returns them', () => {
    const a = new PageAllocator(16);
    const pages = a.allocPages(4, true);
    expect(pages).toEqual([1, 15, 2, 14]);
    a.free(pages);
    expect(a.freePages).toBe(15);
    expect(() => a.free([3])).toThrow(expect.objectContaining({ code: 'BAD_GPADL' }));
  });
});
