import { isNetvscError, MSG_DIR_TX, MSG_LAYER_RNDIS, ResourceError } from '../../core/index.js';
import { HV_PAGE_SIZE, NETVSC_MAX_PKT_SIZE, RNDIS_MSG_INDICATE, type NdisRecvScaleCap } from '../../wire/index.js';
import type { Channel, EventLoop, VmbusPacket } from '../../vmbus/index.js';
import { releaseBuffers, requestorSize, revokeBuffers, type AttachConfig, type NvspAttachment } from './attach.js';
import { NO_SECTION, RNDIS_COOKIE_BASE } from './cookies.js';
import { ControlPages } from './control-pages.js';
import { queryDevice, requestSubChannels, setRss, type DeviceInfo } from './control-plane.js';
import type { ReceiveHandler } from './meta.js';
import { Queue } from './queue.js';
import { RndisFilter } from './rndis-filter.js';
import { DEFAULT_RSS_KEY, defaultSendTable, defaultTable, planChannels } from './rss.js';
import { RxCompletions } from './rx-completions.js';
import { RxQueue } from './rx.js';
import { RndisPacketSender } from './send-packet.js';
import { SendSections } from './send-sections.js';
import { TxPagePool } from './tx-pool.js';
import { TxQueue } from './tx.js';
import { stopReceive } from './quiesce.js';
import { GroPath } from './gro-path.js';

/** How the attachment reaches back into the device. */
export interface DeviceHooks {
  receive: ReceiveHandler;
  wake(queue: number): void;
  indicate(dv: DataView, at: number, rangeLen: number, msgLen: number): boolean;
  inband(pkt: VmbusPacket, ch: Channel): void;
  readonly indicateType: number;
  /** Whether GRO starts on (ethtool -K gro). */
  gro(): boolean;
}

/** Everything one attach built; a detach undoes exactly this (§3.7). */
export interface Attachment {
  readonly nv: NvspAttachment;
  readonly rndis: RndisFilter;
  readonly pages: ControlPages;
  readonly sections: SendSections;
  readonly queues: Queue[];
  readonly pools: TxPagePool[];
  /** GRO per queue (issue 5 item 5), in queue order. */
  readonly gro: GroPath[];
  /** Guest pages of each queue's RSC reassembly buffer (first PFN, count), freed at detach. */
  readonly rscRuns: { readonly pfn: number; readonly pages: number }[];
  readonly info: DeviceInfo;
  readonly maxPkt: number;
  readonly pktAlign: number;
  readonly maxChn: number;
  readonly rxTable: number[];
  readonly key: Uint8Array;
  readonly defaultTxTable: Uint32Array;
  readonly rssCaps: NdisRecvScaleCap | null;
}

type Cfg = AttachConfig & { channels: number; poolSlots: number; poolSlotPages: number };
const CONTROL_PAGES = 8;

/** §3.6 steps 7–10 on top of the NVSP attachment. */
export async function buildAttachment(nv: NvspAttachment, cfg: Cfg, hooks: DeviceHooks, loop: EventLoop | null): Promise<Attachment> {
  const pages = new ControlPages(cfg.memory, cfg.allocator, CONTROL_PAGES);
  const ctl = new RndisPacketSender(nv.primary);
  ctl.observer = cfg.observer;
  const send = (page: number, len: number): boolean => {
    ctl.begin(1, NO_SECTION, 0); // control: channel_type 1, no section, one GPA range (§3.8)
    ctl.addRange(cfg.memory.gpa(pages.pfns[page]!), len);
    cfg.observer?.message(MSG_DIR_TX, 0, MSG_LAYER_RNDIS, cfg.memory.u8, cfg.memory.gpa(pages.pfns[page]!), len);
    if (ctl.send(RNDIS_COOKIE_BASE + page) === 0) return false;
    nv.primary.flush();
    return true;
  };
  const rndis = new RndisFilter(pages, send, cfg.clock, cfg.counters, cfg.timeoutMs);
  const sections = new SendSections(nv.send.sectionCount, nv.send.sectionSize);
  const queues: Queue[] = [];
  const pools: TxPagePool[] = [];
  const groPaths: GroPath[] = [];
  const rscRuns: { pfn: number; pages: number }[] = [];
  const partial = { nv, rndis, pages, sections, queues, pools, gro: groPaths, rscRuns };
  const control = (u8: Uint8Array, at: number, rangeLen: number, type: number, msgLen: number): boolean => {
    if (type === RNDIS_MSG_INDICATE) return hooks.indicate(new DataView(u8.buffer, u8.byteOffset), at, rangeLen, msgLen);
    return rndis.onResponse(u8.subarray(at, at + rangeLen), msgLen);
  };
  const addQueue = async (ch: Channel): Promise<Queue> => {
    const index = ch.subChannelIndex;
    const pool = new TxPagePool(cfg.memory, cfg.allocator, cfg.poolSlots, cfg.poolSlotPages);
    pools.push(pool);
    await pool.register(cfg.bus, nv.primary.relid);
    const tx = new TxQueue({ channel: ch, memory: cfg.memory, sendBufGpa: nv.send.gpa, sections, pool, counters: cfg.counters, maxPkt: 8, pktAlign: 8 });
    tx.onWake = () => hooks.wake(index);
    const completions = new RxCompletions(ch, nv.recv.sectionCount + 1);
    const rscBytes = rscBufferBytes(nv.recv.sectionSize);
    const rscRun = allocRscRun(cfg, rscBytes);
    if (rscRun !== null) rscRuns.push(rscRun);
    const rx = new RxQueue({ queue: index, memory: cfg.memory, recvBufGpa: nv.recv.gpa, recvBufSize: nv.recv.size, recvSectionSize: nv.recv.sectionSize, completions, counters: cfg.counters, onControl: control, rscBytes, ...(rscRun !== null ? { rscGpa: cfg.memory.gpa(rscRun.pfn) } : {}) });
    const gro = new GroPath(index, hooks.receive);
    gro.enabled = hooks.gro();
    rx.onReceive = gro.receive;
    rx.onBatchEnd = () => gro.flush();
    groPaths.push(gro);
    const q = new Queue(index, ch, tx, rx, completions, {
      nvspCompletion: (cookie, pkt) => nv.nvsp.onCompletion(cookie, pkt),
      controlPageDone: (page) => pages.done(page),
      inband: (pkt) => hooks.inband(pkt, ch),
    }, cfg.counters);
    q.observer = rx.observer = tx.sender.observer = completions.observer = cfg.observer;
    queues.push(q);
    loop?.add(q);
    return q;
  };
  try {
    await pages.register(cfg.bus, nv.primary.relid);
    await addQueue(nv.primary);
    nv.primary.onStop = (e) => {
      nv.nvsp.abort(e);
      rndis.abort(e);
    };
    const lim = await rndis.initialize();
    for (const q of queues) q.tx.setRndisLimits(lim.maxPkt, lim.pktAlign);
    const info = await queryDevice(rndis, nv.version, cfg.mtu, cfg.counters);
    const { maxChn, tableSize } = planChannels(info.rssCaps, 64);
    let n = Math.min(maxChn, cfg.channels);
    if (n > 1) {
      try {
        const offers = await requestSubChannels(nv.nvsp, cfg.bus, cfg.offer, n - 1, cfg.clock, cfg.timeoutMs);
        for (const o of offers) {
          const ch = await cfg.bus.open(o, { ringPages: cfg.ringPages, maxPktSize: NETVSC_MAX_PKT_SIZE, requestorSize: requestorSize(cfg.ringPages) });
          (await addQueue(ch)).tx.setRndisLimits(lim.maxPkt, lim.pktAlign);
        }
      } catch (e) {
        if (!isNetvscError(e)) throw e;
        cfg.counters.inc('rndis_bad_response'); // §8 item 15: continue with the channels we have
      }
      n = queues.length;
    }
    const rxTable = defaultTable(tableSize, n);
    if (n > 1) await setRss(rndis, rxTable, DEFAULT_RSS_KEY);
    return { ...partial, info, maxPkt: lim.maxPkt, pktAlign: lim.pktAlign, maxChn, rxTable, key: DEFAULT_RSS_KEY, defaultTxTable: n > 1 ? defaultSendTable(n) : new Uint32Array(16), rssCaps: info.rssCaps };
  } catch (e) {
    await undo(partial, cfg, loop);
    throw e;
  }
}

/**
 * §3.7: HALT, drain, revoke, close sub-channels then the primary, release the buffers. An open
 * device is closed first as Linux's detach does (§1.5): filter 0 so the host writes no more
 * frames, then drain, so every frame already in the receive buffer is delivered and completed
 * before the revoke takes the buffer away.
 */
export async function teardown(att: Attachment, cfg: Cfg, loop: EventLoop | null, open = false): Promise<void> {
  // A rescinded or failed primary: nobody is left to answer on it, so skip the conversation (filter,
  // HALT, drains) and release what the guest owns — channels, buffer GPADLs and their pages. Without
  // this the first write threw CHANNEL_CLOSED and every rescind leaked the buffers' guest pages
  // (found by the re-offer fault: a VM ran out of guest memory on its third re-probe).
  if (att.nv.primary.state === 'open') {
    for (const q of att.queues) q.tx.flush();
    if (open) {
      await stopReceive(att.rndis);
      await drain(att, cfg);
    }
    att.rndis.halt();
    await drain(att, cfg);
  }
  await undo(att, cfg, loop);
}

async function undo(a: Omit<Attachment, 'info' | 'maxPkt' | 'pktAlign' | 'maxChn' | 'rxTable' | 'key' | 'defaultTxTable' | 'rssCaps'>, cfg: Cfg, loop: EventLoop | null): Promise<void> {
  const gone = new ResourceError('CHANNEL_CLOSED', 'device detached');
  a.rndis.abort(gone);
  a.nv.nvsp.abort(gone);
  const primary = a.nv.primary;
  // Revoke while the primary is still open (§3.7 steps 3, 5), then close the channels.
  revokeBuffers(a.nv.nvsp, a.nv.recv, a.nv.send);
  for (const q of a.queues) loop?.remove(q);
  for (const q of [...a.queues].reverse()) if (q.channel !== primary) await cfg.bus.close(q.channel);
  await cfg.bus.close(primary);
  await releaseBuffers(cfg, primary.relid, a.nv.recv, a.nv.send);
  for (const p of a.pools) await p.release(cfg.bus, primary.relid);
  await a.pages.release(cfg.bus, primary.relid);
  for (const r of a.rscRuns) cfg.allocator.freeRun(r.pfn, r.pages);
}

/**
 * Contiguous guest pages for one queue's RSC reassembly buffer (guest RAM, like every other
 * receive buffer of the driver), or null when guest memory has no run that long: the queue then
 * reassembles into a private array.
 */
function allocRscRun(cfg: Cfg, bytes: number): { pfn: number; pages: number } | null {
  const pages = Math.ceil(bytes / HV_PAGE_SIZE);
  try {
    return { pfn: cfg.allocator.allocContiguous(pages), pages };
  } catch (e) {
    if (isNetvscError(e)) return null;
    throw e;
  }
}

/** Waits (on the Clock, bounded by the timeout) until every accepted frame has its completion. */
async function drain(att: Attachment, cfg: Cfg): Promise<void> {
  const idle = (): boolean => att.queues.every((q) => q.drained);
  const deadline = cfg.clock.now() + cfg.timeoutMs;
  // Bounded in turns as well, so a ManualClock that nobody advances cannot hang the detach.
  for (let turns = 0; !idle(); turns++) {
    if (cfg.clock.now() >= deadline || turns > 100_000) throw new ResourceError('TIMEOUT', 'sends still outstanding at detach');
    await new Promise<void>((r) => setImmediate(r));
    for (const q of att.queues) q.poll();
  }
}

const RSC_SECTION_CAP = 0x20000;

/**
 * The RSC reassembly buffer of one queue: a 64 KB packet, the 0–7 alignment gap and two fragments
 * of slack. The section size is the host's sub_alloc_size, bounded only by the receive buffer
 * (up to 31 MiB); an honest host cuts at most ~64 KB sections (MTU 65535), so the slack is capped
 * at 2 × 128 KiB and a hostile size cannot make every queue allocate twice the receive buffer.
 * An RSC packet that does not fit is refused (rx_bad_rsc) as before.
 */
export function rscBufferBytes(recvSectionSize: number): number {
  return 65536 + 8 + 2 * Math.min(recvSectionSize, RSC_SECTION_CAP);
}
