import { describe, expect, test } from 'vitest';
import * as W from '../../wire/index.js';
import { HypervHost, HOST_PROFILE_NAMES, hostProfile, NVSP_VERSIONS, recvSectionSize } from '../index.js';
import { ScriptedGuest, TestLab } from '../../../test/harness/scripted-guest.js';

const MAC = '00:15:5d:00:00:01';

async function guestOn(profile: string): Promise<ScriptedGuest> {
  const lab = new TestLab(new HypervHost({ profile: hostProfile(profile) }));
  return ScriptedGuest.create(lab, 'vm1', { mac: MAC, name: 'eth-test' });
}

/** Linux's fallback (§3.6 step 2): newest first until INIT_COMPLETE says SUCCESS. */
async function negotiate(g: ScriptedGuest): Promise<number> {
  for (const v of NVSP_VERSIONS) {
    const c = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG_TYPE_INIT, minProtocolVer: v, maxProtocolVer: v }));
    if (c.type === W.NVSP_MSG_TYPE_INIT_COMPLETE && c.status === W.NVSP_STAT_SUCCESS) return v;
  }
  return 0;
}

describe('NetVSP bring-up', () => {
  test.each(HOST_PROFILE_NAMES)('profile %s: the guest negotiates down to the profile version and gets one receive section and 6144-byte send sections', async (name) => {
    const g = await guestOn(name);
    const p = hostProfile(name);
    const v = await negotiate(g);
    expect(v).toBe(p.maxNvspVersion);
    // the rest of bring-up at that version (INIT again is refused: the host is past awaitInit)
    const again = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG_TYPE_INIT, minProtocolVer: v, maxProtocolVer: v }));
    expect(again).toMatchObject({ status: W.NVSP_STAT_FAIL });
    g.send({ type: W.NVSP_MSG2_TYPE_SEND_NDIS_CONFIG, mtu: 1514, reserved: 0, capability: { ieee8021q: 1 } }, false);
    g.send({ type: W.NVSP_MSG1_TYPE_SEND_NDIS_VER, ndisMajorVer: 6, ndisMinorVer: 30 }, false);
    g.recvPfns = g.vm.allocator.allocPages(64, true);
    const rh = await g.vm.guest.establishGpadl(g.recvPfns);
    const recv = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG1_TYPE_SEND_RECV_BUF, gpadlHandle: rh, id: 0xcafe }));
    const size = recvSectionSize(1514);
    expect(recv).toEqual({
      type: W.NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE, status: W.NVSP_STAT_SUCCESS, numSections: 1,
      sections: [{ offset: 0, subAllocSize: size, numSubAllocs: Math.floor((64 * 4096) / size), endOffset: size * Math.floor((64 * 4096) / size) }],
    });
    const sp = g.vm.allocator.allocPages(16);
    const sh = await g.vm.guest.establishGpadl(sp);
    expect(ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG1_TYPE_SEND_SEND_BUF, gpadlHandle: sh, id: 0 }))).toEqual({
      type: W.NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE, status: W.NVSP_STAT_SUCCESS, sectionSize: 6144,
    });
    const initC = await g.rndis({ ndisMsgType: W.RNDIS_MSG_INIT, msgLen: 24, reqId: 1, majorVer: 1, minorVer: 0, maxXferSize: 0x4000 });
    expect(initC).toMatchObject({ ndisMsgType: W.RNDIS_MSG_INIT_C, reqId: 1, status: 0, maxPktPerMsg: 8, pktAlignmentFactor: 3, medium: 0 });
    const st = g.nic.stats();
    expect(st).toMatchObject({ nvsp: 'ready', nvspVersion: p.maxNvspVersion, ndisVersion: '6.30', rndis: 'initialized', mtu: 1500 });
    expect(st.recvBuffer).toMatchObject({ sectionSize: size, inUse: 0 });
    expect(st.sendBuffer).toEqual({ sectionSize: 6144, sections: 10 });
  });

  test('a version above the profile is refused with a failure status; 0x2 is accepted everywhere', async () => {
    const g = await guestOn('ws2012');
    const c = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG_TYPE_INIT, minProtocolVer: W.NVSP_PROTOCOL_VERSION_61, maxProtocolVer: W.NVSP_PROTOCOL_VERSION_61 }));
    expect(c).toMatchObject({ status: W.NVSP_STAT_PROTOCOL_TOO_NEW });
    const bogus = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG_TYPE_INIT, minProtocolVer: 0x30000, maxProtocolVer: 0x30000 }));
    expect(bogus).toMatchObject({ status: W.NVSP_STAT_FAIL });
    expect(g.nic.coordinator.counters.get('nvsp_bad_version')).toBe(2);
    const v1 = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG_TYPE_INIT, minProtocolVer: 2, maxProtocolVer: 2 }));
    expect(v1).toMatchObject({ status: W.NVSP_STAT_SUCCESS, negotiatedProtocolVer: 2 });
  });

  test('out-of-order init messages are refused and counted; the right order still works after', async () => {
    const g = await guestOn('ws2019');
    const pfns = g.vm.allocator.allocPages(32);
    const rh = await g.vm.guest.establishGpadl(pfns);
    // receive buffer before INIT
    const early = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG1_TYPE_SEND_RECV_BUF, gpadlHandle: rh, id: 0xcafe }));
    expect(early).toMatchObject({ status: W.NVSP_STAT_FAIL, numSections: 0 });
    await g.request({ type: W.NVSP_MSG_TYPE_INIT, minProtocolVer: W.NVSP_PROTOCOL_VERSION_61, maxProtocolVer: W.NVSP_PROTOCOL_VERSION_61 });
    // receive buffer before NDIS config at v2+ (peers.md §1.6)
    const noMtu = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG1_TYPE_SEND_RECV_BUF, gpadlHandle: rh, id: 0xcafe }));
    expect(noMtu).toMatchObject({ status: W.NVSP_STAT_FAIL });
    // a send buffer before the receive buffer
    const sendEarly = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG1_TYPE_SEND_SEND_BUF, gpadlHandle: rh, id: 0 }));
    expect(sendEarly).toMatchObject({ status: W.NVSP_STAT_FAIL });
    expect(g.nic.coordinator.counters.get('nvsp_unexpected')).toBe(3);
    // NDIS version then config (either order), then the buffer is accepted
    g.send({ type: W.NVSP_MSG1_TYPE_SEND_NDIS_VER, ndisMajorVer: 6, ndisMinorVer: 30 }, false);
    g.send({ type: W.NVSP_MSG2_TYPE_SEND_NDIS_CONFIG, mtu: 9014, reserved: 0, capability: {} }, false);
    const ok = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG1_TYPE_SEND_RECV_BUF, gpadlHandle: rh, id: 0xcafe }));
    expect(ok).toMatchObject({ status: W.NVSP_STAT_SUCCESS, sections: [{ subAllocSize: recvSectionSize(9014) }] });
  });

  test('an undecodable NVSP message is counted and the channel keeps working', async () => {
    const g = await guestOn('ws2016');
    g.sendRaw(Uint8Array.of(0x99, 0, 0, 0, 1, 2, 3, 4), true);
    await g.lab.settle();
    expect(g.nic.coordinator.counters.get('nvsp_bad_message')).toBe(1);
    expect(await negotiate(g)).toBe(W.NVSP_PROTOCOL_VERSION_6);
  });

  test('sub-channels: min(requested, maxQueues − 1) granted, offered, and the send table follows once they are open', async () => {
    const lab = new TestLab(new HypervHost({ profile: hostProfile('ws2012r2', { maxQueues: 3 }) }));
    const g = await ScriptedGuest.create(lab, 'vm1', { mac: MAC });
    await g.bringUp({ version: W.NVSP_PROTOCOL_VERSION_5 });
    const offers: number[] = [];
    g.vm.guest.onOffer = (o) => offers.push(o.childRelid);
    const c = ScriptedGuest.parse(await g.request({ type: W.NVSP_MSG5_TYPE_SUBCHANNEL, completion: false, op: W.NVSP_SUBCHANNEL_ALLOCATE, numSubchannels: 7 }), true);
    expect(c).toEqual({ type: W.NVSP_MSG5_TYPE_SUBCHANNEL, completion: true, status: W.NVSP_STAT_SUCCESS, numSubchannels: 2 });
    await lab.settle();
    expect(offers).toHaveLength(2);
    expect(g.inband).toHaveLength(0);
    for (const relid of offers) await g.vm.guest.open(g.vm.guest.offers.get(relid)!, { ringPages: 4 });
    await lab.settle();
    expect(g.inband).toHaveLength(1);
    const t = ScriptedGuest.parse(g.inband[0]!);
    expect(t).toEqual({ type: W.NVSP_MSG5_TYPE_SEND_INDIRECTION_TABLE, count: 16, offset: 12, txTable: Array.from({ length: 16 }, (_, i) => i % 3) });
    expect(g.nic.stats().queues).toHaveLength(3);
  });

  test('closing the primary resets the NIC and releases the buffer GPADLs', async () => {
    const lab = new TestLab(new HypervHost({ profile: 'azure' }));
    const g = await ScriptedGuest.create(lab, 'vm1', { mac: MAC });
    await g.bringUp();
    await g.vm.guest.close(g.ch);
    await lab.settle();
    expect(g.nic.stats().nvsp).toBe('awaitInit');
    expect(g.vm.host.gpadls.size).toBe(2); // buffers still described by the guest, but unmapped: teardown now completes
    await g.vm.guest.teardownGpadl(0xe1e11);
    expect(g.vm.host.gpadls.size).toBe(1);
  });
});
