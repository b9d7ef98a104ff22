/**
 * Helpers for the TAP end-to-end tests: iperf3 between two namespaces (JSON results), an HTTP
 * download with a sha256, tshark's checksum verdicts over a pcap. Every process runs inside a
 * namespace the test made, so Netns.down() kills whatever is left.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runCommand, type Netns } from '../../src/io/index.js';

export interface IperfResult {
  /** Receiver's bits per second. */
  readonly bps: number;
  /** UDP: datagrams the receiver got, lost percent; TCP: sender retransmits. */
  readonly packets: number;
  readonly lostPercent: number;
  readonly retransmits: number;
}

interface IperfJson {
  readonly error?: string;
  readonly end?: {
    readonly sum_received?: { readonly bits_per_second: number };
    readonly sum_sent?: { readonly retransmits?: number };
    readonly sum?: { readonly bits_per_second: number; readonly packets: number; readonly lost_packets: number; readonly lost_percent: number };
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs one iperf3 client against a one-shot server; `args` are the client's extra flags. */
export async function iperf3(netns: Netns, serverNs: string, clientNs: string, serverIp: string, port: number, args: readonly string[]): Promise<IperfResult> {
  const server = netns.spawn(serverNs, ['iperf3', '-s', '-1', '-p', String(port)]);
  try {
    await sleep(300);
    const r = await netns.exec(clientNs, ['iperf3', '-c', serverIp, '-p', String(port), '-J', ...args], 30_000);
    const j = JSON.parse(r.stdout) as IperfJson;
    if (j.error || !j.end) throw new Error(`iperf3 ${args.join(' ')}: ${j.error ?? 'no end record'} (exit ${r.code}) ${r.stderr}`);
    const udp = j.end.sum;
    if (args.includes('-u') && udp) return { bps: udp.bits_per_second, packets: udp.packets - udp.lost_packets, lostPercent: udp.lost_percent, retransmits: 0 };
    return { bps: j.end.sum_received?.bits_per_second ?? 0, packets: 0, lostPercent: 0, retransmits: j.end.sum_sent?.retransmits ?? 0 };
  } finally {
    server.kill('SIGKILL');
  }
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Frames tshark finds with a bad (status 0) IP, TCP or UDP checksum, and how many it checked good. */
export async function tsharkChecksums(pcap: string): Promise<{ bad: string[]; good: number; frames: number }> {
  const r = await runCommand([
    'tshark', '-n', '-r', pcap,
    '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
    '-T', 'fields', '-e', 'frame.number', '-e', 'ip.checksum.status', '-e', 'tcp.checksum.status', '-e', 'udp.checksum.status',
  ], 60_000);
  if (r.code !== 0) throw new Error(`tshark -r ${pcap}: ${r.stderr}`);
  const rows = r.stdout.split('\n').filter((l) => l.trim() !== '');
  const bad: string[] = [];
  let good = 0;
  for (const row of rows) {
    const [frame, ...status] = row.split('\t');
    // Status per layer: 1 good, 0 bad, 2 unverified; a field may repeat (ICMP-quoted headers).
    const values = status.flatMap((s) => s.split(',')).filter((s) => s !== '');
    if (values.includes('0')) bad.push(`${pcap}#${frame}: ${status.join(' ')}`);
    else if (values.includes('1')) good++;
  }
  return { bad, good, frames: rows.length };
}
