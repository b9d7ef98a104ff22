import { ProtocolError } from '../../core/index.js';
import {
  NETVSC_RECEIVE_BUFFER_ID,
  NETVSC_RECEIVE_BUFFER_SIZE,
  NETVSC_RECEIVE_BUFFER_SIZE_LEGACY,
  NETVSC_SEND_BUFFER_ID,
  NETVSC_SEND_BUFFER_SIZE,
  NVSP_MSG1_TYPE_REVOKE_RECV_BUF,
  NVSP_MSG1_TYPE_REVOKE_SEND_BUF,
  NVSP_MSG1_TYPE_SEND_RECV_BUF,
  NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE,
  NVSP_MSG1_TYPE_SEND_SEND_BUF,
  NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE,
  NVSP_PROTOCOL_VERSION_2,
  NVSP_STAT_SUCCESS,
} from '../../wire/index.js';
import { PAGE_SIZE, type GuestMemory, type PageAllocator, type VmbusGuest } from '../../vmbus/index.js';
import type { NvspClient } from './nvsp-client.js';

/** NETVSC_MTU_MIN: the smallest section either buffer may be cut into (§8 items 13, 14). */
const MIN_SECTION = 68;

/** A buffer registered with the host: one contiguous run of guest pages behind one GPADL. */
export interface GuestBuffer {
  readonly firstPfn: number;
  readonly pages: number;
  readonly gpa: number;
  readonly size: number;
  readonly gpadl: number;
  readonly sectionSize: number;
  readonly sectionCount: number;
}

/** Largest receive buffer for a version (§3.6 step 5, §4.1). */
export function recvBufferMax(nvsp: number): number {
  return nvsp <= NVSP_PROTOCOL_VERSION_2 ? NETVSC_RECEIVE_BUFFER_SIZE_LEGACY : NETVSC_RECEIVE_BUFFER_SIZE;
}

export interface BufferDeps {
  readonly bus: VmbusGuest;
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  readonly nvsp: NvspClient;
  readonly relid: number;
}

/**
 * Allocates `bytes` (rounded up to pages, contiguous so frames can be handed out in place),
 * establishes its GPADL and returns what to register; freed again if the GPADL fails.
 */
async function register(d: BufferDeps, bytes: number): Promise<{ firstPfn: number; pages: number; gpadl: number; size: number }> {
  const pages = Math.ceil(bytes / PAGE_SIZE);
  const firstPfn = d.allocator.allocContiguous(pages);
  d.memory.u8.fill(0, d.memory.gpa(firstPfn), d.memory.gpa(firstPfn + pages));
  try {
    const pfns = Array.from({ length: pages }, (_, i) => firstPfn + i);
    const gpadl = await d.bus.establishGpadl(pfns, pages * PAGE_SIZE, d.relid);
    return { firstPfn, pages, gpadl, size: pages * PAGE_SIZE };
  } catch (e) {
    d.allocator.freeRun(firstPfn, pages);
    throw e;
  }
}

/** Receive buffer (§3.6 step 5): SEND_RECV_BUF, then the completion checked per §8 item 13. */
export async function setupRecvBuffer(d: BufferDeps, nvspVersion: number, sections: number, sectionSize: number): Promise<GuestBuffer> {
  const r = await register(d, Math.min(sections * sectionSize, recvBufferMax(nvspVersion)));
  try {
    const m = await d.nvsp.request({ type: NVSP_MSG1_TYPE_SEND_RECV_BUF, gpadlHandle: r.gpadl, id: NETVSC_RECEIVE_BUFFER_ID }, NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE);
    if (m.type !== NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE) throw new ProtocolError('UNEXPECTED_MESSAGE', 'not a receive-buffer completion');
    const s = m.sections[0];
    if (m.status !== NVSP_STAT_SUCCESS || m.numSections !== 1 || !s || s.offset !== 0 || s.subAllocSize < MIN_SECTION || s.subAllocSize * s.numSubAllocs > r.size) {
      throw new ProtocolError(
        'MALFORMED',
        `receive-buffer completion: status ${m.status}, ${m.numSections} sections, first {offset ${s?.offset}, ${s?.subAllocSize} × ${s?.numSubAllocs}} for ${r.size} B`,
      );
    }
    return { ...r, gpa: d.memory.gpa(r.firstPfn), sectionSize: s.subAllocSize, sectionCount: s.numSubAllocs };
  } catch (e) {
    d.nvsp.post({ type: NVSP_MSG1_TYPE_REVOKE_RECV_BUF, id: NETVSC_RECEIVE_BUFFER_ID });
    await release(d, r);
    throw e;
  }
}

/** Send buffer (§3.6 step 6): SEND_SEND_BUF; the host picks the section size (§8 item 14). */
export async function setupSendBuffer(d: BufferDeps, sections: number, sectionSize: number): Promise<GuestBuffer> {
  const r = await register(d, Math.min(sections * sectionSize, NETVSC_SEND_BUFFER_SIZE));
  try {
    const m = await d.nvsp.request({ type: NVSP_MSG1_TYPE_SEND_SEND_BUF, gpadlHandle: r.gpadl, id: NETVSC_SEND_BUFFER_ID }, NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE);
    if (m.type !== NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE) throw new ProtocolError('UNEXPECTED_MESSAGE', 'not a send-buffer completion');
    if (m.status !== NVSP_STAT_SUCCESS || m.sectionSize < MIN_SECTION) {
      throw new ProtocolError('MALFORMED', `send-buffer completion: status ${m.status}, section size ${m.sectionSize}`);
    }
    return { ...r, gpa: d.memory.gpa(r.firstPfn), sectionSize: m.sectionSize, sectionCount: Math.floor(r.size / m.sectionSize) };
  } catch (e) {
    d.nvsp.post({ type: NVSP_MSG1_TYPE_REVOKE_SEND_BUF, id: NETVSC_SEND_BUFFER_ID });
    await release(d, r);
    throw e;
  }
}

/** GPADL teardown then the pages back to the allocator (§3.7 step 9). */
export async function release(d: Pick<BufferDeps, 'bus' | 'allocator' | 'relid'>, b: { firstPfn: number; pages: number; gpadl: number }): Promise<void> {
  await d.bus.teardownGpadl(b.gpadl, d.relid);
  d.allocator.freeRun(b.firstPfn, b.pages);
}
