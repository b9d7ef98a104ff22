// One end (host or guest) of the two-worker stream: the real VMBus bring-up over a MessagePort,
// then sequence-numbered packets both ways through the channel's rings.
import type { MessagePort } from 'node:worker_threads';
import {
  Doorbell,
  EventLoop,
  GuestMemory,
  PageAllocator,
  PortLink,
  VmbusGuest,
  VmbusHost,
  type Channel,
  type VmShared,
} from '../../src/vmbus/index.js';
import { SeqChecker, SeqSender } from './ring-stream.js';

export interface RingPeerData {
  readonly role: 'host' | 'guest';
  readonly shared: VmShared;
  readonly port: MessagePort;
  /** Packets the guest sends to the host, and back. */
  readonly toHost: number;
  readonly toGuest: number;
  readonly payloadLen: number;
  readonly ringPages: number;
}

export interface RingPeerReport {
  readonly role: 'host' | 'guest';
  readonly received: number;
  readonly errors: number;
  /** Receive rate between the first and the last packet. */
  readonly pps: number;
  readonly counters: Record<string, number>;
  readonly sleeps: number;
}

const INSTANCE = 'a1b2c3d4-0000-4000-8000-00000000beef';

/** Runs one end until it has received and sent everything, then reports through `report`. */
export async function runRingPeer(d: RingPeerData, report: (r: RingPeerReport) => void): Promise<void> {
  const own = d.role === 'host' ? Doorbell.host(d.shared.hostDoorbell) : Doorbell.guest(d.shared.signals);
  const loop = new EventLoop(own);
  const link = new PortLink(d.port);
  const expected = d.role === 'host' ? d.toHost : d.toGuest;
  const toSend = d.role === 'host' ? d.toGuest : d.toHost;
  const checker = new SeqChecker(d.payloadLen, expected, () => {});
  let sender: SeqSender | null = null;
  let counters: () => Record<string, number> = () => ({});
  const start = (ch: Channel): void => {
    ch.onPacket = checker.onPacket;
    sender = new SeqSender(ch, toSend, d.payloadLen);
    loop.add(sender);
  };
  if (d.role === 'host') {
    const host = new VmbusHost({ memory: d.shared.memory, signals: d.shared.signals, link, loop });
    counters = () => host.counters.snapshot();
    host.offerDevice({ instanceGuid: INSTANCE, maxPktSize: 4624, onOpen: start });
  }
  const running = loop.start();
  if (d.role === 'guest') {
    const memory = new GuestMemory(d.shared.memory);
    const guest = new VmbusGuest({
      memory,
      allocator: new PageAllocator(memory.pageCount),
      signals: d.shared.signals,
      hostDoorbell: Doorbell.host(d.shared.hostDoorbell),
      link,
      loop,
    });
    counters = () => guest.counters.snapshot();
    const offers = await guest.requestOffers();
    start(await guest.open(offers[0]!, { ringPages: d.ringPages, maxPktSize: 4624 }));
  }
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (checker.received >= expected && sender?.done) {
        clearInterval(t);
        resolve();
      }
    }, 2);
  });
  const secs = (checker.lastAt - checker.firstAt) / 1000;
  report({ role: d.role, received: checker.received, errors: checker.errors, pps: secs > 0 ? checker.received / secs : 0, counters: counters(), sleeps: loop.sleeps });
  await loop.stop();
  await running;
  link.close();
}
