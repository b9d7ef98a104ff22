/**
 * A tiny IPv4 host behind a FramePort, for TAP tests: answers ARP for its address and ICMP echo
 * requests, optionally capturing every frame both ways into a pcap. It checks nothing itself;
 * the kernel (ping) and tshark judge its frames.
 */
import { clearFrameMeta, newFrameMeta, type FrameMeta, type FramePort } from '../../src/core/index.js';
import type { PcapWriter } from '../../src/io/index.js';

const ETH_P_IP = 0x0800;
const ETH_P_ARP = 0x0806;

function be16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/** RFC 1071 Internet checksum over b[at, at+len) (test helper, written for clarity). */
function inetChecksum(b: Uint8Array, at: number, len: number): number {
  let sum = 0;
  for (let i = 0; i + 1 < len; i += 2) sum += be16(b, at + i);
  if (len & 1) sum += b[at + len - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface ResponderCounts {
  arpReplies: number;
  echoReplies: number;
  ignored: number;
}

export class PingResponder {
  readonly counts: ResponderCounts = { arpReplies: 0, echoReplies: 0, ignored: 0 };
  private readonly out = new Uint8Array(65536);
  private readonly meta: FrameMeta = newFrameMeta();
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly handler = (b: Uint8Array, off: number, len: number): void => this.onFrame(b, off, len);

  constructor(
    private readonly port: FramePort,
    private readonly mac: readonly number[],
    private readonly ip: readonly number[],
    private readonly pcap?: PcapWriter,
  ) {
    clearFrameMeta(this.meta);
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.port.readable(50);
        this.port.poll(this.handler, 64);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private isOurIp(b: Uint8Array, at: number): boolean {
    return b[at] === this.ip[0] && b[at + 1] === this.ip[1] && b[at + 2] === this.ip[2] && b[at + 3] === this.ip[3];
  }

  private onFrame(b: Uint8Array, off: number, len: number): void {
    this.pcap?.write(b, off, len);
    if (len < 42) return void this.counts.ignored++;
    const type = be16(b, off + 12);
    if (type === ETH_P_ARP && be16(b, off + 20) === 1 && this.isOurIp(b, off + 38)) return this.arpReply(b, off);
    if (type === ETH_P_IP && b[off + 23] === 1 && this.isOurIp(b, off + 30)) {
      const ihl = (b[off + 14]! & 0x0f) * 4;
      if (b[off + 14 + ihl] === 8) return this.echoReply(b, off, len, ihl);
    }
    this.counts.ignored++;
  }

  private send(len: number): void {
    this.pcap?.write(this.out, 0, len);
    if (!this.port.tryWrite(this.out, 0, len, this.meta)) throw new Error('TX ring full in a ping test');
  }

  private arpReply(b: Uint8Array, off: number): void {
    const o = this.out;
    for (let i = 0; i < 6; i++) {
      o[i] = b[off + 6 + i]!; // to the requester
      o[6 + i] = this.mac[i]!;
      o[22 + i] = this.mac[i]!; // sender hardware address
      o[32 + i] = b[off + 22 + i]!; // target hardware address = requester's
    }
    o.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2], 12); // Ethernet/IPv4, hlen 6, plen 4, op reply
    for (let i = 0; i < 4; i++) {
      o[28 + i] = this.ip[i]!;
      o[38 + i] = b[off + 28 + i]!;
    }
    o.fill(0, 42, 60); // pad to the Ethernet minimum
    this.counts.arpReplies++;
    this.send(60);
  }

  private echoReply(b: Uint8Array, off: number, len: number, ihl: number): void {
    const o = this.out;
    for (let i = 0; i < len; i++) o[i] = b[off + i]!;
    for (let i = 0; i < 6; i++) {
      o[i] = b[off + 6 + i]!;
      o[6 + i] = this.mac[i]!;
    }
    for (let i = 0; i < 4; i++) {
      o[26 + i] = this.ip[i]!;
      o[30 + i] = b[off + 26 + i]!;
    }
    o[22] = 64; // TTL
    o[24] = 0;
    o[25] = 0;
    const ipc = inetChecksum(o, 14, ihl);
    o[24] = ipc >>> 8;
    o[25] = ipc & 0xff;
    const icmp = 14 + ihl;
    const icmpLen = be16(o, 16) - ihl;
    o[icmp] = 0; // echo reply
    o[icmp + 2] = 0;
    o[icmp + 3] = 0;
    const c = inetChecksum(o, icmp, icmpLen);
    o[icmp + 2] = c >>> 8;
    o[icmp + 3] = c & 0xff;
    this.counts.echoReplies++;
    this.send(len);
  }
}
