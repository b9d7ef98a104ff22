import { type Layout, fieldSize } from './struct.js';

/** Bytes from the layout start to the end of its last field (what a decoder must have). */
export function layoutExtent(l: Layout): number {
  let end = 0;
  for (const f of l.fields) end = Math.max(end, f.at + fieldSize(f));
  return end;
}
