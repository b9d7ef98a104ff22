import {
  NDIS_RSS_PARAM_FLAG_DISABLE_RSS,
  NVSP_MSG5_TYPE_SUBCHANNEL,
  NVSP_PROTOCOL_VERSION_5,
  NVSP_STAT_SUCCESS,
  NVSP_SUBCHANNEL_ALLOCATE,
  OID_GEN_RECEIVE_SCALE_CAPABILITIES,
  OID_GEN_RECEIVE_SCALE_PARAMETERS,
  OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES,
  OID_TCP_OFFLOAD_PARAMETERS,
  RNDIS_OID_802_3_PERMANENT_ADDRESS,
  RNDIS_OID_GEN_FRIENDLY_NAME,
  RNDIS_OID_GEN_LINK_SPEED,
  RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE,
  RNDIS_OID_GEN_MEDIA_CONNECT_STATUS,
  emitOffload,
  parseOffload,
  parseRssCaps,
  type NdisRecvScaleCap,
  type OfferChannel,
} from '../../wire/index.js';
import { ProtocolError, ResourceError, isNetvscError, type Clock } from '../../core/index.js';
import type { GuestCounters } from './counters.js';
import type { NvspClient } from './nvsp-client.js';
import { offloadQueryHeader, planOffload, validateHwCaps, type OffloadPlan } from './offload.js';
import type { RndisFilter } from './rndis-filter.js';
import { rssCapsQueryInput, rssParamsSet } from './rss.js';
import type { VmbusGuest } from '../../vmbus/index.js';

/** What the RNDIS queries of §3.6 step 8 found. */
export interface DeviceInfo {
  mtu: number;
  readonly mac: Uint8Array;
  readonly friendlyName: string | null;
  readonly offload: OffloadPlan;
  readonly linkUp: boolean;
  readonly linkSpeedMbps: number;
  readonly rssCaps: NdisRecvScaleCap | null;
}

/** §3.6 step 8, in Linux's order. Optional queries that fail are ignored; MAC and offload caps are not. */
export async function queryDevice(rndis: RndisFilter, nvspVersion: number, mtu: number, counters: GuestCounters): Promise<DeviceInfo> {
  const ignore = async <T>(p: Promise<T>): Promise<T | null> => p.catch((e: unknown) => (isNetvscError(e) && e.code !== 'TIMEOUT' ? null : Promise.reject(e)));
  const frame = await ignore(rndis.query(RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE, null, 4));
  // §8 item 48: used only when exactly 4 bytes and smaller than the MTU, and then only lowers it.
  if (frame && frame.length === 4) {
    const v = new DataView(frame.buffer).getUint32(0, true);
    if (v < mtu && v >= 68) mtu = v;
  }
  const macBytes = await rndis.query(RNDIS_OID_802_3_PERMANENT_ADDRESS, null, 6); // item 49: > 6 B fails
  if (macBytes.length !== 6) throw new ProtocolError('MALFORMED', `permanent address of ${macBytes.length} B`);
  const nameBytes = await ignore(rndis.query(RNDIS_OID_GEN_FRIENDLY_NAME, null, 512)); // item 50
  let friendlyName: string | null = null;
  if (nameBytes) {
    const s = new TextDecoder('utf-16le').decode(nameBytes).replace(/\0+$/, '');
    if (s !== 'Network Adapter' && s.length > 0) friendlyName = s;
  }
  const hdr = offloadQueryHeader(nvspVersion);
  const input = new Uint8Array(hdr.size);
  emitOffload({ header: hdr }, new DataView(input.buffer), 0);
  const capsBytes = await rndis.query(OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, input, 4096);
  if (capsBytes.length < 4) throw new ProtocolError('MALFORMED', `offload caps of ${capsBytes.length} B`);
  const caps = parseOffload(new DataView(capsBytes.buffer), 0, capsBytes.length);
  validateHwCaps(caps, capsBytes.length); // item 46
  const offload = planOffload(caps, nvspVersion);
  const st = await rndis.set(OID_TCP_OFFLOAD_PARAMETERS, offload.size, { offloadParams: offload.params });
  if (st !== 0) counters.inc('rndis_bad_response');
  const media = await ignore(rndis.query(RNDIS_OID_GEN_MEDIA_CONNECT_STATUS, null, 4));
  const linkUp = media !== null && media.length >= 4 && new DataView(media.buffer).getUint32(0, true) === 0;
  let linkSpeedMbps = 0;
  let rssCaps: NdisRecvScaleCap | null = null;
  if (nvspVersion >= NVSP_PROTOCOL_VERSION_5) {
    const speed = await ignore(rndis.query(RNDIS_OID_GEN_LINK_SPEED, null, 4));
    if (speed && speed.length === 4) linkSpeedMbps = new DataView(speed.buffer).getUint32(0, true) / 10000;
    const rc = await ignore(rndis.query(OID_GEN_RECEIVE_SCALE_CAPABILITIES, rssCapsQueryInput(), 64));
    if (rc && rc.length >= 18) rssCaps = parseRssCaps(new DataView(rc.buffer), 0, rc.length);
  }
  return { mtu, mac: macBytes, friendlyName, offload, linkUp, linkSpeedMbps, rssCaps };
}

/**
 * §3.6 step 10.1–10.3: asks for `want` sub-channels and returns the offers of those granted, once
 * all have arrived (§8 items 15, 16). Offers already on the bus (a re-attach) count.
 */
export async function requestSubChannels(nvsp: NvspClient, bus: VmbusGuest, primary: OfferChannel, want: number, clock: Clock, timeoutMs: number): Promise<OfferChannel[]> {
  const m = await nvsp.request({ type: NVSP_MSG5_TYPE_SUBCHANNEL, completion: false, op: NVSP_SUBCHANNEL_ALLOCATE, numSubchannels: want }, NVSP_MSG5_TYPE_SUBCHANNEL);
  if (m.type !== NVSP_MSG5_TYPE_SUBCHANNEL || !m.completion) throw new ProtocolError('UNEXPECTED_MESSAGE', 'not a sub-channel completion');
  if (m.status !== NVSP_STAT_SUCCESS) throw new ProtocolError('UNEXPECTED_MESSAGE', `sub-channel request failed: status ${m.status}`);
  if (m.numSubchannels > want) throw new ProtocolError('MALFORMED', `host granted ${m.numSubchannels} sub-channels, ${want} asked`);
  const granted = m.numSubchannels;
  const mine = (o: OfferChannel): boolean => o.ifInstance === primary.ifInstance && o.subChannelIndex >= 1 && o.subChannelIndex <= granted;
  const found = new Map<number, OfferChannel>();
  for (const o of bus.offers.values()) if (mine(o)) found.set(o.subChannelIndex, o);
  if (found.size < granted) {
    await new Promise<void>((resolve, reject) => {
      const prev = bus.onOffer;
      const done = (err: Error | null): void => {
        bus.onOffer = prev;
        cancel();
        if (err) reject(err);
        else resolve();
      };
      const cancel = clock.after(timeoutMs, () => done(new ResourceError('TIMEOUT', `${found.size} of ${granted} sub-channel offers in ${timeoutMs} ms`)));
      bus.onOffer = (o) => {
        prev(o);
        if (mine(o)) found.set(o.subChannelIndex, o); // index ≥ num_chn is ignored (item 16)
        if (found.size === granted) done(null);
      };
    });
  }
  return [...found.values()].sort((a, b) => a.subChannelIndex - b.subChannelIndex);
}

/** §3.6 step 10.5: RSS parameters twice, DISABLE_RSS then enabled; failures are ignored. */
export async function setRss(rndis: RndisFilter, table: readonly number[], key: Uint8Array): Promise<boolean> {
  let ok = true;
  for (const flag of [NDIS_RSS_PARAM_FLAG_DISABLE_RSS, 0]) {
    const { len, body } = rssParamsSet(table, key, flag);
    const st = await rndis.set(OID_GEN_RECEIVE_SCALE_PARAMETERS, len, body).catch((e: unknown) => {
      if (isNetvscError(e) && e.code !== 'TIMEOUT') return -1;
      throw e;
    });
    ok &&= st === 0;
  }
  return ok;
}
