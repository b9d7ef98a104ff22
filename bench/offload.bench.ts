/**
 * Offload benchmarks (issue 5 item 8), host and two VMs on one thread (the offload lab of
 * test/offload): 64-byte UDP frames per second VM to VM with 1, 2 and 4 channels (flows spread
 * over the TX queues by the transmit hash and over the receive channels by RSS), and a bulk TCP
 * stream of 64 KB LSO super-frames segmented by the host and coalesced again by the receiver's
 * GRO, in Gbit/s of TCP payload. One thread does the guest stacks, the host and the switch, so the
 * figures are the whole path's cost on one core.
 */
import { buildTcp4Frame, buildUdp4Frame, FrameSpec } from '../src/packet/index.js';
import { OffloadLab, pump, testSpec, type LabGuest } from '../test/offload/harness.js';
import { RX_F_FRAGS, XMIT_BUSY, XMIT_IN_PLACE } from '../src/guest/index.js';
import type { BenchContext } from './harness.js';

/**
 * CPU time this process used since `from`, in ns. Everything here runs on one thread, so on an
 * idle machine this equals the wall time; on the shared 2-core box, where other work takes the
 * CPU away for whole time slices, the per-CPU-second rows show what the code itself costs.
 */
function cpuNsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) * 1000;
}

function spec(a: LabGuest, b: LabGuest): FrameSpec {
  return testSpec(b.mac, a.mac, { dstPort: 9 });
}

async function pair(channels: number): Promise<{ lab: OffloadLab; a: LabGuest; b: LabGuest; got: { frames: number; bytes: number } }> {
  const lab = new OffloadLab('azure');
  const a = await lab.guest('a', '00:15:5d:00:00:0a', { channels, rxSections: 512, txSections: 256 });
  const b = await lab.guest('b', '00:15:5d:00:00:0b', { channels, rxSections: 1024, txSections: 64 });
  const got = { frames: 0, bytes: 0 };
  b.dev.onReceive = (_u8, _off, len) => {
    got.frames++;
    got.bytes += len;
  };
  // Teach the switch b's MAC so frames are not flooded to the other ports.
  const s = spec(b, a);
  const f = new Uint8Array(128);
  const n = buildUdp4Frame(f, 0, s, new Uint8Array(18), 0, 18);
  b.dev.xmit(f, 0, n, { csum: false, mss: 0 });
  b.dev.flush();
  await lab.settle();
  return { lab, a, b, got };
}

/** 64-byte frames (UDP, 64 flows by source port) for about `ms`. */
async function smallPps(ctx: BenchContext, channels: number, ms: number): Promise<void> {
  const { lab, a, b, got } = await pair(channels);
  const s = spec(a, b);
  const flows = 64;
  const frames: Uint8Array[] = [];
  for (let i = 0; i < flows; i++) {
    s.srcPort = 10000 + i;
    const f = new Uint8Array(64);
    buildUdp4Frame(f, 0, s, new Uint8Array(18), 0, 18); // 14 + 20 + 8 + 18 = 60 B + FCS = 64 B on a wire
    frames.push(f.subarray(0, 60));
  }
  const req = { csum: true, mss: 0 } as const;
  const run = (limitMs: number): { frames: number; ns: number; cpuNs: number } => {
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    const base = got.frames;
    let i = 0;
    const end = start + BigInt(limitMs * 1e6);
    while (process.hrtime.bigint() < end) {
      for (let k = 0; k < 256; k++) {
        const f = frames[i++ & (flows - 1)]!;
        if (!a.dev.xmit(f, 0, f.length, req, k !== 255)) break;
      }
      a.dev.flush();
      lab.lab.loop.drain();
    }
    for (let k = 0; k < 20; k++) lab.lab.loop.drain();
    return { frames: got.frames - base, ns: Number(process.hrtime.bigint() - start), cpuNs: cpuNsSince(cpu0) };
  };
  run(100);
  const r = run(ms);
  const pps = r.frames / (r.ns / 1e9);
  const name = `VM→VM 64 B, ${channels} channel${channels > 1 ? 's' : ''}`;
  ctx.report({ name, unit: 'pps', value: pps });
  ctx.report({ name: `${name}, per CPU-second`, unit: 'pps', value: r.frames / (r.cpuNs / 1e9) });
  if (b.dev.queueCount !== channels) throw new Error(`asked ${channels} channels, got ${b.dev.queueCount}`);
  await lab.settle();
  await lab.close();
}

/**
 * 64 KB LSO super-frames, MSS 1460, coalesced again by the receiver's GRO or by host RSC, for about `ms`.
 * The receiver takes RSC packets as fragment lists (Contract B, `frags`: a stack with receive
 * scatter-gather) and counts their bytes from the list; `frags` false reassembles them (the A side of an A/B).
 * The sender builds its super-frames in its own guest memory and sends them in place (Contract A,
 * `inPlace`: an skb's pages); `inPlace` false has xmit() copy one private frame (the A side of an A/B).
 */
export async function bulk(ctx: BenchContext, ms: number, rsc: boolean, frags = true, inPlace = true): Promise<void> {
  const { lab, a, b, got } = await pair(1);
  await pump(lab.lab, b.dev.setLro(rsc)); // azure has RSC; Linux's default is LRO on
  b.dev.setRxFragments(frags);
  b.dev.onReceive = (_u8, _off, len, m) => {
    got.frames++;
    if ((m.flags & RX_F_FRAGS) === 0) got.bytes += len;
    else for (let i = 0; i < m.fragments; i++) got.bytes += m.fragLen[i]!;
  };
  const s = spec(a, b);
  s.srcPort = 40000;
  s.dstPort = 5001;
  const payloadLen = 65535 - 40;
  const payload = new Uint8Array(payloadLen).map((_, i) => i & 0xff);
  const frame = new Uint8Array(payloadLen + 64);
  const req = { csum: true, mss: 1460 } as const;
  s.seq = 1;
  const n = buildTcp4Frame(frame, 0, s, payload, 0, payloadLen);
  let seq = 1;
  // In place: BUFS frame buffers in the sender's guest memory, described to the host once (a DMA
  // mapping), rotated; a buffer goes back on the free list only at its onTxDone (token = index).
  const BUFS = 8;
  const dev = a.dev;
  const pages = Math.ceil(n / 4096);
  const offs = new Int32Array(BUFS);
  const free: number[] = [];
  if (inPlace) {
    const first = dev.allocator.allocContiguous(BUFS * pages);
    await pump(lab.lab, dev.mapTxPages(Array.from({ length: BUFS * pages }, (_, i) => first + i)));
    for (let i = 0; i < BUFS; i++) {
      offs[i] = dev.memory.gpa(first + i * pages);
      dev.memory.u8.set(frame.subarray(0, n), offs[i]!);
      free.push(i);
    }
    dev.onTxDone = (t) => void free.push(t);
  }
  const u8 = dev.memory.u8;
  /** The stack's next segment: same headers, next sequence number (xmit() re-prepares it). */
  const sendOne = (): boolean => {
    let buf: Uint8Array = frame;
    let at = 0;
    let i = -1;
    if (inPlace) {
      if (free.length === 0) return false;
      i = free.pop()!;
      buf = u8;
      at = offs[i]!;
    }
    buf[at + 38] = seq >>> 24;
    buf[at + 39] = (seq >>> 16) & 0xff;
    buf[at + 40] = (seq >>> 8) & 0xff;
    buf[at + 41] = seq & 0xff;
    let ok: boolean;
    if (!inPlace) ok = dev.xmit(frame, 0, n, req, false);
    else {
      const r = dev.xmitInPlace(at, n, req, false, i);
      if (r !== XMIT_IN_PLACE) free.push(i);
      ok = r !== XMIT_BUSY;
    }
    if (ok) seq = (seq + payloadLen) >>> 0;
    return ok;
  };
  const run = (limitMs: number): { bytes: number; ns: number; packets: number; cpuNs: number } => {
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    const base = got.bytes;
    const basePk = got.frames;
    const end = start + BigInt(limitMs * 1e6);
    while (process.hrtime.bigint() < end) {
      for (let k = 0; k < 4; k++) if (!sendOne()) break;
      lab.lab.loop.drain();
    }
    for (let k = 0; k < 20; k++) lab.lab.loop.drain();
    return { bytes: got.bytes - base, ns: Number(process.hrtime.bigint() - start), packets: got.frames - basePk, cpuNs: cpuNsSince(cpu0) };
  };
  run(100);
  const r = run(ms);
  const payloadBytes = r.bytes - r.packets * 54;
  const name = rsc ? 'VM→VM TCP bulk, LSO 64 KB + host RSC, payload' : 'VM→VM TCP bulk, LSO 64 KB + GRO, payload';
  ctx.report({ name, unit: 'Gbit/s', value: (payloadBytes * 8) / r.ns, target: '≥ 30 Gbit/s' });
  ctx.report({ name: `${name}, per CPU-second`, unit: 'Gbit/s', value: (payloadBytes * 8) / r.cpuNs });
  await lab.close();
}

export async function run(ctx: BenchContext): Promise<void> {
  const ms = ctx.quick ? 300 : 1500;
  for (const ch of [1, 2, 4]) await smallPps(ctx, ch, ms);
  await bulk(ctx, ms, false);
  await bulk(ctx, ms, true);
}
