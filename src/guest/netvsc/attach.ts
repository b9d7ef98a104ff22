import { isNetvscError, MSG_DIR_RX, MSG_LAYER_VMBUS, ProtocolError, type Clock, type MessageObserver } from '../../core/index.js';
import {
  NETVSC_MAX_PKT_SIZE,
  NETVSC_RECEIVE_BUFFER_ID,
  NETVSC_SEND_BUFFER_ID,
  NVSP_MSG1_TYPE_REVOKE_RECV_BUF,
  NVSP_MSG1_TYPE_REVOKE_SEND_BUF,
  NETVSC_RECV_SECTION_SIZE,
  NETVSC_SEND_SECTION_SIZE,
  NVSP_MSG2_TYPE_SEND_NDIS_CONFIG,
  NVSP_MSG1_TYPE_SEND_NDIS_VER,
  NVSP_MSG_TYPE_INIT,
  NVSP_MSG_TYPE_INIT_COMPLETE,
  NVSP_PROTOCOL_VERSION_1,
  NVSP_PROTOCOL_VERSION_4,
  NVSP_PROTOCOL_VERSION_5,
  NVSP_PROTOCOL_VERSION_61,
  NVSP_STAT_SUCCESS,
  VM_PKT_COMP,
  type OfferChannel,
} from '../../wire/index.js';
import type { Channel, GuestMemory, PageAllocator, VmbusGuest } from '../../vmbus/index.js';
import { release, setupRecvBuffer, setupSendBuffer, type GuestBuffer } from './buffers.js';
import { NVSP_COOKIE_BASE } from './cookies.js';
import type { GuestCounters } from './counters.js';
import { NvspClient } from './nvsp-client.js';

/** Newest first, as Linux tries them (§3.6 step 2); the table lives in wire, shared with the host. */
export { NVSP_VERSIONS } from '../../wire/index.js';

/** What an attach needs from the device: everything is re-read on each attach (reconfiguration). */
export interface AttachConfig {
  readonly bus: VmbusGuest;
  readonly offer: OfferChannel;
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  readonly clock: Clock;
  readonly counters: GuestCounters;
  readonly timeoutMs: number;
  readonly ringPages: number;
  readonly mtu: number;
  readonly rxSections: number;
  readonly txSections: number;
  readonly recvSectionSize: number;
  readonly sendSectionSize: number;
  readonly versions: readonly number[];
  /** The message trace's observer (issue 7), or null. */
  readonly observer: MessageObserver | null;
}

/** The NVSP half of an attached device (§3.6 steps 1–6). */
export interface NvspAttachment {
  readonly primary: Channel;
  readonly nvsp: NvspClient;
  readonly version: number;
  readonly ndisMajor: number;
  readonly ndisMinor: number;
  readonly recv: GuestBuffer;
  readonly send: GuestBuffer;
}

/** Requestor slots: Linux sizes it ring_bytes/(16+40) + ring_bytes/16 (§2.11). */
export function requestorSize(ringPages: number): number {
  const bytes = ringPages * 4096;
  return Math.floor(bytes / 56) + Math.floor(bytes / 16);
}

/** §3.6 steps 1–6: open the primary, negotiate, NDIS config and version, both buffers. */
export async function attachNvsp(c: AttachConfig): Promise<NvspAttachment> {
  const primary = await c.bus.open(c.offer, { ringPages: c.ringPages, maxPktSize: NETVSC_MAX_PKT_SIZE, requestorSize: requestorSize(c.ringPages) });
  const nvsp = new NvspClient(primary, c.clock, c.counters, c.timeoutMs);
  nvsp.observer = c.observer;
  // Until the queue exists, only init completions can arrive that we care about.
  primary.onPacket = (pkt, ch) => {
    c.observer?.message(MSG_DIR_RX, 0, MSG_LAYER_VMBUS, pkt.buf, 0, pkt.len);
    if (pkt.type !== VM_PKT_COMP) return;
    let cookie: number;
    try {
      cookie = ch.completeRequest(pkt);
    } catch (e) {
      if (!isNetvscError(e)) throw e;
      c.counters.inc('comp_bad_id');
      return;
    }
    if (cookie >= NVSP_COOKIE_BASE) nvsp.onCompletion(cookie, pkt);
  };
  primary.onStop = (e) => nvsp.abort(e);
  try {
    const version = await negotiate(nvsp, c.versions);
    if (version !== NVSP_PROTOCOL_VERSION_1) {
      nvsp.post({
        type: NVSP_MSG2_TYPE_SEND_NDIS_CONFIG,
        mtu: c.mtu + 14,
        reserved: 0,
        capability: {
          ieee8021q: 1,
          sriov: version >= NVSP_PROTOCOL_VERSION_5 ? 1 : 0,
          teaming: version >= NVSP_PROTOCOL_VERSION_5 ? 1 : 0,
          rsc: version >= NVSP_PROTOCOL_VERSION_61 ? 1 : 0,
        },
      });
    }
    const ndisMajor = 6;
    const ndisMinor = version <= NVSP_PROTOCOL_VERSION_4 ? 1 : 30;
    nvsp.post({ type: NVSP_MSG1_TYPE_SEND_NDIS_VER, ndisMajorVer: ndisMajor, ndisMinorVer: ndisMinor });
    const deps = { bus: c.bus, memory: c.memory, allocator: c.allocator, nvsp, relid: primary.relid };
    const recv = await setupRecvBuffer(deps, version, c.rxSections, c.recvSectionSize);
    let send: GuestBuffer;
    try {
      send = await setupSendBuffer(deps, c.txSections, c.sendSectionSize);
    } catch (e) {
      revokeBuffers(nvsp, recv, null);
      await releaseBuffers(c, primary.relid, recv, null);
      throw e;
    }
    return { primary, nvsp, version, ndisMajor, ndisMinor, recv, send };
  } catch (e) {
    await c.bus.close(primary);
    throw e;
  }
}

/** §3.6 step 2: INIT with min = max = each version until one completes with SUCCESS (§8 item 11). */
async function negotiate(nvsp: NvspClient, versions: readonly number[]): Promise<number> {
  for (const v of versions) {
    const m = await nvsp.request({ type: NVSP_MSG_TYPE_INIT, minProtocolVer: v, maxProtocolVer: v }, NVSP_MSG_TYPE_INIT_COMPLETE);
    if (m.type === NVSP_MSG_TYPE_INIT_COMPLETE && m.status === NVSP_STAT_SUCCESS) return v;
  }
  throw new ProtocolError('BAD_VERSION', `the host accepted none of NVSP ${versions.map((v) => '0x' + v.toString(16)).join(', ')}`);
}

/** §3.7 steps 3, 5: REVOKE_RECV_BUF / REVOKE_SEND_BUF, fire-and-forget, skipped on a closed channel. */
export function revokeBuffers(nvsp: NvspClient, recv: GuestBuffer | null, send: GuestBuffer | null): void {
  if (nvsp.channel.state !== 'open') return;
  if (recv) nvsp.post({ type: NVSP_MSG1_TYPE_REVOKE_RECV_BUF, id: NETVSC_RECEIVE_BUFFER_ID });
  if (send) nvsp.post({ type: NVSP_MSG1_TYPE_REVOKE_SEND_BUF, id: NETVSC_SEND_BUFFER_ID });
}

/** §3.7 step 9 (VMBus ≥ 4.0): after the channels close, the buffer GPADLs go and the pages are freed. */
export async function releaseBuffers(c: Pick<AttachConfig, 'bus' | 'allocator'>, relid: number, recv: GuestBuffer | null, send: GuestBuffer | null): Promise<void> {
  if (recv) await release({ bus: c.bus, allocator: c.allocator, relid }, recv);
  if (send) await release({ bus: c.bus, allocator: c.allocator, relid }, send);
}

export const DEFAULT_SECTION_SIZES = { recv: NETVSC_RECV_SECTION_SIZE, send: NETVSC_SEND_SECTION_SIZE } as const;
