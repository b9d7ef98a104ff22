// TapPort towards the kernel (no root): what reaches the TAP fd (through a recording addon in place
// of writev) or the TX ring, byte for byte. A frame that came with an 802.1Q PPI gets its tag back
// in the frame after the MAC addresses, contiguous or as a fragment list, and the vnet header's
// offsets count the tag; an untagged frame is written as given.
import { describe, expect, it, vi } from 'vitest';
import { FRAME_F_NEEDS_CSUM, FRAME_GSO_TCPV4, newFrameMeta } from '../../core/index.js';
import { createFrameRingBuffer, FrameRing } from './frame-ring.js';
import { TapPort } from './tap-port.js';

/** Every writev the port made: header iovec and ranges concatenated, as the kernel would see the write. */
const writes: number[][] = [];
const fakeAddon = {
  writeFrame(_fd: number, hdr: Uint8Array, hdrLen: number, buf: Uint8Array, off: number, len: number): number {
    writes.push([...hdr.subarray(0, hdrLen), ...buf.subarray(off, off + len)]);
    return hdrLen + len;
  },
  writeFrags(_fd: number, hdr: Uint8Array, hdrLen: number, buf: Uint8Array, offs: Int32Array, lens: Int32Array, n: number): number {
    const w = [...hdr.subarray(0, hdrLen)];
    for (let i = 0; i < n; i++) w.push(...buf.subarray(offs[i]!, offs[i]! + lens[i]!));
    writes.push(w);
    return w.length;
  },
  /** Fd watches (readable()'s one-shot): on until unwatched. */
  watching: new Set<object>(),
  watch(_fd: number, _cb: (status: number) => void): object {
    const h = {};
    fakeAddon.watching.add(h);
    return h;
  },
  unwatch(h: object): void {
    fakeAddon.watching.delete(h);
  },
};
vi.mock('./addon.js', () => ({ tapAvailability: () => ({ ok: true, addon: fakeAddon }) }));

const HDR = 12;
/** 100-byte IPv4 TCP frame (bytes are their index, so a misplaced range shows). */
const FRAME = Uint8Array.from({ length: 100 }, (_, i) => i);
FRAME.set([0x08, 0x00], 12);
/** Priority 5, VLAN 10: TCI 0xa00a on the wire. */
const TCI = (5 << 13) | 10;
/** An 802.1p priority tag: priority 6, VLAN id 0 (TCI 0xc000). */
const PRIO_ONLY = 6 << 13;

function meta() {
  const m = newFrameMeta();
  m.flags = FRAME_F_NEEDS_CSUM;
  m.csumStart = 34;
  m.csumOffset = 16;
  m.gsoType = FRAME_GSO_TCPV4;
  m.gsoSize = 1448;
  m.hdrLen = 54;
  return m;
}

/** The vnet header (le16 fields) and frame the kernel must get; with a tag, offsets + 4 and the tag after the MACs. */
function expected(tci: number): number[] {
  const t = tci > 0 ? 4 : 0;
  const h = [FRAME_F_NEEDS_CSUM, FRAME_GSO_TCPV4, 54 + t, 0, 1448 & 0xff, 1448 >> 8, 34 + t, 0, 16, 0, 0, 0];
  const f = [...FRAME];
  return tci > 0 ? [...h, ...f.slice(0, 12), 0x81, 0x00, tci >> 8, tci & 0xff, ...f.slice(12)] : [...h, ...f];
}

function port(direct: boolean): { p: TapPort; ring: FrameRing } {
  const tx = createFrameRingBuffer(65536);
  const p = new TapPort({ name: 't', rx: createFrameRingBuffer(65536), tx, vnetHdrLen: HDR, ...(direct ? { txFd: 99 } : {}) });
  return { p, ring: new FrameRing(tx) };
}

/** What the port wrote last: the recorded writev (direct) or the TX ring's record. */
function lastWrite(direct: boolean, ring: FrameRing): number[] {
  if (direct) return writes.at(-1)!;
  const at = ring.peek();
  const w = [...ring.bytes.subarray(at, at + ring.peekLen)];
  ring.release();
  return w;
}

describe('TapPort write, 802.1Q tag from the PPI', () => {
  for (const direct of [true, false]) {
    for (const tci of [TCI, PRIO_ONLY, 0]) {
      const what = `${direct ? 'writev to the fd' : 'TX ring'}, ${tci === TCI ? 'tagged' : tci ? 'priority tag (VLAN id 0)' : 'untagged'}`;
      it(`${what}: a contiguous frame`, () => {
        const { p, ring } = port(direct);
        const b = new Uint8Array(300);
        b.set(FRAME, 50);
        expect(p.tryWrite(b, 50, 100, meta(), tci)).toBe(true);
        expect(lastWrite(direct, ring)).toEqual(expected(tci));
      });

      it(`${what}: a fragment list (the caller's list left as it was)`, () => {
        const { p, ring } = port(direct);
        const b = new Uint8Array(1000);
        b.set(FRAME.subarray(0, 60), 100);
        b.set(FRAME.subarray(60, 70), 500);
        b.set(FRAME.subarray(70), 800);
        const offs = Int32Array.from([100, 500, 800, 7]);
        const lens = Int32Array.from([60, 10, 30, 7]);
        expect(p.tryWriteFrags(b, offs, lens, 3, 100, meta(), tci)).toBe(true);
        expect(lastWrite(direct, ring)).toEqual(expected(tci));
        expect([...offs, ...lens]).toEqual([100, 500, 800, 7, 60, 10, 30, 7]);
      });
    }
  }
});

describe('TapPort write, the caller\'s fragment list when the addon throws', () => {
  it('a tagged list whose writev throws leaves offs/lens as they were', () => {
    const { p } = port(true);
    const b = new Uint8Array(1000);
    b.set(FRAME, 100);
    const offs = Int32Array.from([100, 700]);
    const lens = Int32Array.from([60, 40]);
    const spy = vi.spyOn(fakeAddon, 'writeFrags').mockImplementationOnce(() => {
      throw new RangeError('range outside the buffer');
    });
    expect(() => p.tryWriteFrags(b, offs, lens, 2, 100, meta(), TCI)).toThrow(RangeError);
    spy.mockRestore();
    expect([...offs, ...lens]).toEqual([100, 700, 60, 40]);
  });
});

describe('TapPort.readable() on an inline-RX port', () => {
  it('a second call while one waits is refused (BUSY), and close() ends the waiting one: no waiter hangs, no watch stays', async () => {
    const p = new TapPort({ name: 't', rx: createFrameRingBuffer(65536), tx: createFrameRingBuffer(65536), vnetHdrLen: HDR, rxFd: 5 });
    const first = p.readable(60_000);
    expect(() => p.readable(60_000)).toThrow(expect.objectContaining({ name: 'ConfigError', code: 'BUSY' }));
    expect(fakeAddon.watching.size).toBe(1);
    p.close();
    const hung = new Promise<string>((r) => setTimeout(() => r('still waiting'), 200));
    expect(await Promise.race([first, hung])).toBe(false);
    expect(fakeAddon.watching.size).toBe(0);
    // Once it ended, a new call may wait again (on a closed port: not readable at once).
    expect(await p.readable(10)).toBe(false);
  });

  it('watch() while a readable() waits is refused (BUSY) and adds no second watch of the fd; after it ends, watch() goes on', async () => {
    const p = new TapPort({ name: 't', rx: createFrameRingBuffer(65536), tx: createFrameRingBuffer(65536), vnetHdrLen: HDR, rxFd: 5 });
    const waiting = p.readable(20);
    expect(() => p.watch(() => {})).toThrow(expect.objectContaining({ name: 'ConfigError', code: 'BUSY' }));
    expect(fakeAddon.watching.size).toBe(1);
    expect(await waiting).toBe(false); // its timeout
    expect(fakeAddon.watching.size).toBe(0);
    p.watch(() => {});
    expect(fakeAddon.watching.size).toBe(1);
    p.close();
    expect(fakeAddon.watching.size).toBe(0);
  });
});
