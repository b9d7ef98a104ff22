// Layered capture through the Lab API (no root): 300 UDP frames from A's app port to B's. Each
// layer's pcap holds exactly those frames, byte-identical (guest TX at A, A's switch port
// ingress, B's switch port egress, guest RX at B); the trace holds the NVSP/RNDIS bring-up and one
// NVSP 107 + RNDIS header per data packet, and every record decodes through `netvsc wire decode`
// to the message it names.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readPcap } from '../../src/io/index.js';
import { wireDecode } from '../../src/cli/commands/wire.js';
import { buildUdp4Frame, FrameSpec } from '../../src/packet/index.js';
import { newLab, range } from './fixtures.js';
import { runScenario, validateScenario, type TraceRecord } from '../../src/lab/index.js';
import { readTrace, undecodable } from '../harness/trace-check.js';
import { tsharkChecksums } from '../harness/e2e-tools.js';

const dir = mkdtempSync(join(tmpdir(), 'nvsc-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function frames(srcMac: string, dstMac: string, n: number): Uint8Array[] {
  const spec = new FrameSpec();
  spec.dstMac.set(dstMac.split(':').map((x) => parseInt(x, 16)));
  spec.srcMac.set(srcMac.split(':').map((x) => parseInt(x, 16)));
  spec.src4 = 0x0a000001;
  spec.dst4 = 0x0a000002;
  spec.srcPort = 1000;
  spec.dstPort = 2000;
  return range(0, n - 1).map((i) => {
    const payload = Uint8Array.from({ length: 18 + ((i * 53) % 1400) }, (_, j) => (i * 7 + j) & 0xff);
    const f = new Uint8Array(1514);
    spec.ipId = i;
    return f.slice(0, buildUdp4Frame(f, 0, spec, payload, 0, payload.length));
  });
}

const pcap = (name: string): Uint8Array[] => readPcap(join(dir, name)).records.map((r) => Uint8Array.from(r.data));

describe.each(['single-thread', 'workers'] as const)('capture through the Lab API (%s)', (mode) => {
  test('every layer holds the frames byte-identical; the trace decodes', async () => {
    const sub = join(dir, mode);
    const lab = await newLab({ profile: 'azure', mode });
    const a = (await lab.addVm({ name: 'a', nics: [{ capture: { dir: sub, trace: true } }] })).nics[0]!;
    const b = (await lab.addVm({ name: 'b', nics: [{ capture: { dir: sub, layers: ['switch-out', 'guest-rx'] } }] })).nics[0]!;
    const sent = frames(a.mac, b.mac, 300);
    await lab.writeFrames(a.port, sent);
    let got = 0;
    await lab.waitFor('300 frames at B', () => {
      got += b.port.poll(() => {}, 256);
      return got >= sent.length;
    });
    await lab.flushCaptures();
    expect(pcap(`${mode}/a-eth0-guest-tx.pcap`)).toEqual(sent);
    expect(pcap(`${mode}/a-eth0-switch-in.pcap`)).toEqual(sent);
    expect(pcap(`${mode}/b-eth0-switch-out.pcap`)).toEqual(sent);
    expect(pcap(`${mode}/b-eth0-guest-rx.pcap`)).toEqual(sent);
    // A's port delivered nothing to A, and B asked for no trace or TX capture.
    expect(pcap(`${mode}/a-eth0-switch-out.pcap`)).toEqual([]);
    expect(() => readFileSync(join(sub, 'b-eth0-trace.jsonl'))).toThrow();
    expect(() => readFileSync(join(sub, 'b-eth0-host-trace.jsonl'))).toThrow();
    expect(() => readFileSync(join(sub, 'b-eth0-guest-tx.pcap'))).toThrow();

    const recs = readTrace(join(dir, `${mode}/a-eth0-trace.jsonl`));
    const names = (dir: string, layer: string): string[] => recs.filter((r) => r.dir === dir && r.layer === layer).map((r) => r.msg);
    const txNvsp = names('tx', 'nvsp');
    expect(txNvsp[0]).toBe('nvsp_message/nvsp_message_init');
    expect(txNvsp).toContain('nvsp_message/nvsp_1_message_send_receive_buffer');
    expect(txNvsp).toContain('nvsp_message/nvsp_1_message_send_send_buffer');
    expect(names('rx', 'vmbus')).toContain('nvsp_message/nvsp_message_init_complete');
    const txRndis = names('tx', 'rndis');
    expect(txRndis[0]).toBe('rndis_message/rndis_initialize_request');
    expect(txRndis).toContain('rndis_message/rndis_query_request');
    expect(txRndis).toContain('rndis_message/rndis_set_request');
    expect(names('rx', 'rndis')).toContain('rndis_message/rndis_initialize_complete');
    // One RNDIS data header per frame sent (header + PPIs, not the frame).
    const data = recs.filter((r) => r.dir === 'tx' && r.layer === 'rndis' && r.msg === 'rndis_message/rndis_packet');
    expect(data.length).toBe(300);
    expect(data.every((r) => r.struct === 'rndis_message/rndis_packet+PPIs' && r.hex.length / 2 < 100)).toBe(true);
    // Every record goes through the CLI's decoder and comes out as the message it names.
    const picks = [...recs.filter((r) => r.layer !== 'rndis' || r.msg !== 'rndis_message/rndis_packet'), ...data.slice(0, 5)];
    expect(recs.filter((r) => r.msg === 'unknown')).toEqual([]);
    expect(undecodable(picks)).toEqual([]);
    // The host's side of the same NIC: every packet the guest sent, and the host's NVSP answers.
    const host = readTrace(join(dir, `${mode}/a-eth0-host-trace.jsonl`));
    expect(host.every((r) => r.side === 'host' && r.nic === 'a/eth0')).toBe(true);
    expect(host[0]).toMatchObject({ dir: 'rx', layer: 'vmbus', msg: 'nvsp_message/nvsp_message_init' });
    expect(host.filter((r) => r.dir === 'tx').map((r) => r.msg)).toContain('nvsp_message/nvsp_message_init_complete');
    // As many NVSP 107s and 108 completions as the guest's own trace shows it sent (RNDIS control,
    // and data: several frames share one 107 when the driver batches them in a send section, §4.4).
    const sent107 = recs.filter((r) => r.dir === 'tx' && r.msg === 'nvsp_message/nvsp_1_message_send_rndis_packet').length;
    expect(sent107).toBeGreaterThan(10);
    expect(host.filter((r) => r.dir === 'rx' && r.msg === 'nvsp_message/nvsp_1_message_send_rndis_packet').length).toBe(sent107);
    expect(host.filter((r) => r.dir === 'tx' && r.msg === 'nvsp_message/nvsp_1_message_send_rndis_packet_complete').length).toBe(sent107);
    // The RNDIS replies the host wrote into A's receive buffer, each in its own transfer-page packet.
    const hostRndis = host.filter((r) => r.dir === 'tx' && r.layer === 'rndis').map((r) => r.msg);
    expect(hostRndis).toContain('rndis_message/rndis_initialize_complete');
    expect(hostRndis).toContain('rndis_message/rndis_query_complete');
    expect(host.filter((r) => r.dir === 'tx' && r.msg === 'nvsp_message/nvsp_1_message_send_rndis_packet').length).toBeGreaterThan(0);
    // …and the guest read each of them; and the host read every RNDIS message the guest sent (the same bytes).
    expect(recs.filter((r) => r.dir === 'rx' && r.layer === 'rndis').map((r) => r.msg)).toEqual(hostRndis);
    // Every receive completion the guest sent, the host read (on its side: whole type-11 packets).
    const recvComps = recs.filter((r) => r.dir === 'tx' && r.layer === 'nvsp' && r.hex.length === 16).length;
    expect(recvComps).toBeGreaterThan(0);
    expect(host.filter((r) => r.dir === 'rx' && r.msg === 'recv_comp_msg').length).toBe(recvComps);
    const hexes = (side: TraceRecord[], dir: string): string[] => side.filter((r) => r.dir === dir && r.layer === 'rndis').map((r) => r.hex);
    expect(hexes(host, 'rx')).toEqual(hexes(recs, 'tx'));
    expect(hexes(host, 'rx').length).toBeGreaterThan(300);
    expect(undecodable(host)).toEqual([]);
    const first = data[0]!;
    const dec = wireDecode({ hex: first.hex, struct: first.struct! }).fields as { data_len: number };
    expect(dec.data_len).toBe(sent[0]!.length);
  });
});

describe('capture from a scenario', () => {
  test('a NIC\'s capture field writes the layers it names, with every frame the flow sent through them', async () => {
    const sub = join(dir, 'scenario');
    const spec = validateScenario({
      vms: [
        { name: 's', nics: [{ name: 'eth0', queues: 1, capture: { dir: sub, layers: ['guest-tx', 'switch-in'] } }] },
        { name: 'r', nics: [{ name: 'eth1', queues: 1 }] },
      ],
      flows: [{ name: 'f', protocol: 'udp', from: 'eth0', to: 'eth1', size: 600, rate: 2000, expect: { delivered: 'all' } }],
      durationMs: 500,
    });
    const r = await runScenario(spec, { mode: 'single-thread' });
    const f = r.flows[0]!;
    expect(f.failures).toEqual([]);
    expect(readdirSync(sub).sort()).toEqual(['s-eth0-guest-tx.pcap', 's-eth0-switch-in.pcap']);
    // The flow's frames (600 B UDP) at both layers, the same bytes in the same order.
    const tx = pcap('scenario/s-eth0-guest-tx.pcap').filter((b) => b.length === 600);
    expect(tx.length).toBe(f.sent);
    expect(pcap('scenario/s-eth0-switch-in.pcap').filter((b) => b.length === 600)).toEqual(tx);
  });
});

/** The VLAN id of an 802.1Q-tagged frame, or -1 when the frame has no tag. */
const vlanOf = (f: Uint8Array): number => (f[12] === 0x81 && f[13] === 0x00 ? ((f[14]! << 8) | f[15]!) & 0xfff : -1);

describe('capture with VLANs', () => {
  test('tags from the 802.1Q PPI show at the trunk port and its guest; the access side is untagged', async () => {
    const sub = join(dir, 'vlan');
    const capture = { dir: sub };
    const spec = validateScenario({
      vms: [
        { name: 'router', nics: [{ name: 'trunk0', queues: 1, vlan: { mode: 'trunk', allowed: [10] }, capture }] },
        { name: 'tenant', nics: [{ name: 'eth0', queues: 1, vlan: { mode: 'access', id: 10 }, capture }] },
      ],
      flows: [
        { name: 'v10', protocol: 'udp', from: 'trunk0', to: 'eth0', vlan: 10, size: 200, rate: 1000, expect: { delivered: 'all' } },
        { name: 'back', protocol: 'udp', from: 'eth0', to: 'trunk0', size: 300, rate: 1000, expect: { delivered: 'all' } },
      ],
      durationMs: 400,
    });
    const r = await runScenario(spec, { mode: 'single-thread' });
    expect(r.flows.map((f) => f.failures)).toEqual([[], []]);
    const [v10, back] = [r.flows[0]!.sent, r.flows[1]!.sent];
    expect(v10).toBeGreaterThan(50);
    expect(back).toBeGreaterThan(50);
    // trunk0 → eth0: 200-byte frames with the tag (196 without), as the stack built them.
    const tags = (file: string, len: number): number[] => pcap(`vlan/${file}.pcap`).filter((f) => f.length === len).map(vlanOf);
    expect(tags('router-trunk0-guest-tx', 200)).toEqual(Array(v10).fill(10));
    expect(tags('router-trunk0-switch-in', 200)).toEqual(Array(v10).fill(10)); // the PPI, re-inserted
    expect(tags('tenant-eth0-switch-out', 196)).toEqual(Array(v10).fill(-1)); // access port: untagged
    expect(tags('tenant-eth0-guest-rx', 196)).toEqual(Array(v10).fill(-1));
    // eth0 → trunk0: untagged from the access port, tagged by the switch for the trunk.
    expect(tags('tenant-eth0-guest-tx', 300)).toEqual(Array(back).fill(-1));
    expect(tags('tenant-eth0-switch-in', 300)).toEqual(Array(back).fill(-1));
    expect(tags('router-trunk0-switch-out', 304)).toEqual(Array(back).fill(10));
    expect(tags('router-trunk0-guest-rx', 304)).toEqual(Array(back).fill(10)); // RX VLAN PPI, re-inserted
    // tshark (where installed) reads the tags and finds every IP/UDP checksum good at every layer.
    if (existsSync('/usr/bin/tshark')) {
      for (const f of readdirSync(sub)) {
        const c = await tsharkChecksums(join(sub, f));
        expect(c.bad, f).toEqual([]);
        expect(c.good, f).toBe(c.frames);
      }
    }
  });
});
