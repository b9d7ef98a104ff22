// A ring in fresh guest memory with a writer and a reader over it, for ring tests.
import { GuestMemory, RingMemory, RingReader, RingWriter, newVmbusCounters, type VmbusCounters } from '../../src/vmbus/index.js';

export interface RingPair {
  readonly mem: GuestMemory;
  readonly ring: RingMemory;
  readonly writer: RingWriter;
  readonly reader: RingReader;
  readonly wc: VmbusCounters;
  readonly rc: VmbusCounters;
  /** Recreates writer and reader (e.g. after poking the header). */
  reopen(): RingPair;
}

/** A ring of `dataPages` data pages at PFN 1, both indexes at `start` (8-aligned). */
export function ringPair(dataPages = 1, start = 0, maxPktSize = 4624): RingPair {
  const mem = GuestMemory.create(dataPages + 3);
  const ring = new RingMemory(mem.u8, 4096, (dataPages + 1) * 4096);
  ring.initialize();
  ring.store(0, start);
  ring.store(4, start);
  const make = (): RingPair => {
    const wc = newVmbusCounters();
    const rc = newVmbusCounters();
    return { mem, ring, wc, rc, writer: new RingWriter(ring, wc), reader: new RingReader(ring, maxPktSize, rc), reopen: make };
  };
  return make();
}

/** Payload bytes whose content depends on seq and position, so misplaced bytes show. */
export function pattern(seq: number, len: number, out = new Uint8Array(len)): Uint8Array {
  for (let i = 0; i < len; i++) out[i] = (seq * 31 + i * 7 + 1) & 0xff;
  return out;
}
