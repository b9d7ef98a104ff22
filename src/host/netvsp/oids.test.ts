import { describe, expect, test } from 'vitest';
import * as W from '../../wire/index.js';
import { HypervHost, hostProfile } from '../index.js';
import { ScriptedGuest, TestLab } from '../../../test/harness/scripted-guest.js';
import { SUPPORTED_OIDS } from './oids.js';

async function ready(profile = 'ws2019', version: number = W.NVSP_PROTOCOL_VERSION_61): Promise<ScriptedGuest> {
  const lab = new TestLab(new HypervHost({ profile: hostProfile(profile) }));
  const g = await ScriptedGuest.create(lab, 'vm', { mac: '00:15:5d:12:34:56', name: 'lab0' });
  await g.bringUp({ version });
  await g.rndis({ ndisMsgType: W.RNDIS_MSG_INIT, msgLen: 24, reqId: 1, majorVer: 1, minorVer: 0, maxXferSize: 0x4000 });
  return g;
}

async function query(g: ScriptedGuest, oid: number, input = new Uint8Array(0)): Promise<{ status: number; info: Uint8Array }> {
  const r = await g.rndis({
    ndisMsgType: W.RNDIS_MSG_QUERY, msgLen: 28 + input.length, reqId: 7, oid, infoBuflen: input.length, infoBufOffset: input.length ? 20 : 0, devVcHandle: 0,
    ...(input.length ? { infoBuf: input } : {}),
  });
  if (r?.ndisMsgType !== W.RNDIS_MSG_QUERY_C) throw new Error('no QUERY_C');
  expect(r.reqId).toBe(7);
  // raw info bytes, located by the offsets the reply gives (§5.2)
  const raw = g.rx.length === 0 ? null : null;
  void raw;
  return { status: r.status, info: infoOf(r) };
}

function infoOf(r: W.RndisMessage): Uint8Array {
  const b = new Uint8Array(W.rndisMessageSize(r));
  const dv = new DataView(b.buffer);
  W.emitRndis(r, dv, 0);
  const len = dv.getUint32(16, true);
  const off = dv.getUint32(20, true);
  return b.slice(8 + off, 8 + off + len);
}

const u32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(0, true);

async function set(g: ScriptedGuest, oid: number, info: Uint8Array): Promise<number> {
  const r = await g.rndis({ ndisMsgType: W.RNDIS_MSG_SET, msgLen: 28 + info.length, reqId: 9, oid, infoBuflen: info.length, infoBufOffset: 20, devVcHandle: 0, infoBuf: info });
  if (r?.ndisMsgType !== W.RNDIS_MSG_SET_C) throw new Error('no SET_C');
  return r.status;
}

describe('RNDIS OIDs', () => {
  test('every query the Linux guest makes is answered with the right bytes', async () => {
    const g = await ready();
    expect(u32((await query(g, W.RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE)).info)).toBe(1500);
    expect([...(await query(g, W.RNDIS_OID_802_3_PERMANENT_ADDRESS)).info]).toEqual([0x00, 0x15, 0x5d, 0x12, 0x34, 0x56]);
    const name = (await query(g, W.RNDIS_OID_GEN_FRIENDLY_NAME)).info;
    expect(new TextDecoder('utf-16le').decode(name)).toBe('lab0\0');
    expect(u32((await query(g, W.RNDIS_OID_GEN_MEDIA_CONNECT_STATUS)).info)).toBe(0);
    expect(u32((await query(g, W.RNDIS_OID_GEN_LINK_SPEED)).info)).toBe(100_000_000);
    for (const [rev, size] of [[1, 112], [2, 144], [3, 156]] as const) {
      const hdr = Uint8Array.of(W.NDIS_OBJECT_TYPE_OFFLOAD, rev, size, 0);
      const { info } = await query(g, W.OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, hdr);
      expect(info.length).toBe(size);
      const o = W.parseOffload(new DataView(info.buffer), 0, info.length);
      expect(o.header).toEqual({ type: W.NDIS_OBJECT_TYPE_OFFLOAD, revision: rev, size });
      expect(o.csum!['ip4Txcsum']! & W.NDIS_TXCSUM_CAP_TCP4).toBeTruthy();
      expect(o.csum!['ip6Txcsum']! & W.NDIS_TXCSUM_CAP_UDP6).toBeTruthy();
      expect(o.lsov2).toMatchObject({ ip4Maxsz: 62780, ip4Minsg: 2, ip6Opts: W.NDIS_LSOV2_CAP_IP6 });
      if (rev === 3) expect(o.rsc).toEqual({ ip4: 1, ip6: 1 });
    }
    const rss = await query(g, W.OID_GEN_RECEIVE_SCALE_CAPABILITIES, Uint8Array.of(0x88, 2, 18, 0));
    expect(W.parseRssCaps(new DataView(rss.info.buffer), 0, rss.info.length)).toMatchObject({ numRecvQue: 16, numIndirectTabent: 128, hdr: { type: 0x88, rev: 2, size: 18 } });
  });

  test('the general OIDs: supported list, media, statistics; an unknown OID is NOT_SUPPORTED and counted', async () => {
    const g = await ready();
    const list = (await query(g, W.RNDIS_OID_GEN_SUPPORTED_LIST)).info;
    expect(Array.from({ length: list.length / 4 }, (_, i) => new DataView(list.buffer).getUint32(4 * i, true))).toEqual(SUPPORTED_OIDS);
    expect(u32((await query(g, W.RNDIS_OID_GEN_MEDIA_IN_USE)).info)).toBe(W.RNDIS_MEDIUM_802_3);
    expect((await query(g, W.RNDIS_OID_GEN_XMIT_OK)).info.length).toBe(8);
    expect((await query(g, 0x0d010101)).status).toBe(W.RNDIS_STATUS_NOT_SUPPORTED);
    expect(g.nic.coordinator.counters.get('oid_unsupported')).toBe(1);
  });

  test('RSS capabilities are refused below NVSP 5 and on a single-queue profile', async () => {
    const g = await ready('ws2012', W.NVSP_PROTOCOL_VERSION_4);
    expect((await query(g, W.OID_GEN_RECEIVE_SCALE_CAPABILITIES, Uint8Array.of(0x88, 2, 18, 0))).status).toBe(W.RNDIS_STATUS_NOT_SUPPORTED);
  });

  test('sets: packet filter, 22- and 28-byte offload parameters, RSS parameters, NetworkAddress', async () => {
    const g = await ready();
    expect(await set(g, W.RNDIS_OID_GEN_CURRENT_PACKET_FILTER, Uint8Array.of(0x0d, 0, 0, 0))).toBe(0);
    expect(g.nic.stats().packetFilter).toBe(0x0d);
    for (const size of [22, 28]) {
      const p = new Uint8Array(size);
      W.emitOffloadParams({ header: { type: W.NDIS_OBJECT_TYPE_DEFAULT, revision: 3, size }, tcpIpV4Csum: 4, lsoV2Ipv4: 2 }, new DataView(p.buffer), 0);
      expect(await set(g, W.OID_TCP_OFFLOAD_PARAMETERS, p)).toBe(0);
    }
    expect(g.nic.stats().offload).toMatchObject({ tcpIpV4Csum: 4, lsoV2Ipv4: 2 });
    expect(await set(g, W.OID_TCP_OFFLOAD_PARAMETERS, new Uint8Array(10))).not.toBe(0);
    // RSS with one channel: entries must be 0; key 40 bytes
    const key = W.hexToBytes(W.NETVSC_HASH_KEY_HEX);
    const rssp = (table: number[], k: Uint8Array) => {
      const p: W.NdisRecvScaleParams = {
        hdr: { type: W.NDIS_OBJECT_TYPE_RSS_PARAMETERS, rev: 2, size: 40 }, flag: 0, baseCpuNumber: 0, hashinfo: 0x1701,
        indirectTabsize: 4 * table.length, indirectTaboffset: 40, hashkeySize: k.length, hashkeyOffset: 40 + 4 * table.length,
        processorMasksOffset: 0, numProcessorMasks: 0, processorMasksEntrySize: 0, itab: table, keyp: k,
      };
      const b = new Uint8Array(W.rssParamsLength(p));
      W.emitRssParams(p, new DataView(b.buffer), 0);
      return b;
    };
    expect(await set(g, W.OID_GEN_RECEIVE_SCALE_PARAMETERS, rssp(Array(128).fill(0), key))).toBe(0);
    expect(g.nic.stats().rss).toEqual({ enabled: true, hashInfo: 0x1701, tableSize: 128 });
    expect(await set(g, W.OID_GEN_RECEIVE_SCALE_PARAMETERS, rssp(Array(128).fill(1), key))).toBe(W.RNDIS_STATUS_INVALID_DATA);
    expect(await set(g, W.OID_GEN_RECEIVE_SCALE_PARAMETERS, rssp(Array(128).fill(0), key.subarray(0, 16)))).toBe(W.RNDIS_STATUS_INVALID_LENGTH);
    // NetworkAddress (§5.12)
    const utf16 = (s: string) => Uint8Array.from(Array.from(s).flatMap((c) => [c.charCodeAt(0), 0]));
    const cfg = new Uint8Array(72);
    const dv = new DataView(cfg.buffer);
    [20, 28, 2, 48, 24].forEach((v, i) => dv.setUint32(4 * i, v, true));
    cfg.set(utf16('NetworkAddress'), 20);
    cfg.set(utf16('00155dabcdef'), 48);
    expect(await set(g, W.RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, cfg)).toBe(0);
    expect(g.nic.stats().mac).toBe('00:15:5d:ab:cd:ef');
    expect([...(await query(g, W.RNDIS_OID_802_3_CURRENT_ADDRESS)).info]).toEqual([0x00, 0x15, 0x5d, 0xab, 0xcd, 0xef]);
  });

  test('HALT needs no reply, RESET gets RESET_C, KEEPALIVE gets KEEPALIVE_C; QUERY before INIT is refused', async () => {
    const g = await ready();
    expect(await g.rndis({ ndisMsgType: W.RNDIS_MSG_KEEPALIVE, msgLen: 12, reqId: 3 })).toEqual({ ndisMsgType: W.RNDIS_MSG_KEEPALIVE_C, msgLen: 16, reqId: 3, status: 0 });
    expect(await g.rndis({ ndisMsgType: W.RNDIS_MSG_RESET, msgLen: 12, reserved: 0 })).toEqual({ ndisMsgType: W.RNDIS_MSG_RESET_C, msgLen: 16, status: 0, addressingReset: 0 });
    expect(await g.rndis({ ndisMsgType: W.RNDIS_MSG_HALT, msgLen: 12, reqId: 4 })).toBeNull();
    expect(g.nic.stats().rndis).toBe('halted');
    expect(await g.rndis({ ndisMsgType: W.RNDIS_MSG_QUERY, msgLen: 28, reqId: 5, oid: W.RNDIS_OID_GEN_LINK_SPEED, infoBuflen: 0, infoBufOffset: 0, devVcHandle: 0 })).toBeNull();
    expect(g.nic.coordinator.counters.get('control_bad')).toBe(1);
  });
});
