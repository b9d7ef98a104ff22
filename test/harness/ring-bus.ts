// Host and guest VMBus ends in one thread (single-thread mode): in-memory SynIC link, one event
// loop pumped by the test, real shared memory and rings.
import {
  Doorbell,
  EventLoop,
  GuestMemory,
  inMemoryLinkPair,
  type MessageLink,
  newHostDoorbellSab,
  PageAllocator,
  SIGNAL_SAB_BYTES,
  VmbusGuest,
  VmbusHost,
} from '../../src/vmbus/index.js';

export interface SingleThreadBus {
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  readonly host: VmbusHost;
  readonly guest: VmbusGuest;
  readonly loop: EventLoop;
  /** The host's end of the SynIC link: a test may inject raw message bytes through hostLink.onMessage. */
  readonly hostLink: MessageLink;
  /** The guest's end: inject what a hostile host would send through guestLink.onMessage. */
  readonly guestLink: MessageLink;
  /** Lets queued channel messages arrive (they are delivered from microtasks). */
  settle(): Promise<void>;
}

export function singleThreadBus(pages = 512): SingleThreadBus {
  const memory = GuestMemory.create(pages);
  const allocator = new PageAllocator(pages);
  const signals = new SharedArrayBuffer(SIGNAL_SAB_BYTES);
  const hostDoorbell = Doorbell.host(newHostDoorbellSab());
  const loop = new EventLoop(hostDoorbell);
  const [hostLink, guestLink] = inMemoryLinkPair();
  const host = new VmbusHost({ memory: memory.sab, signals, link: hostLink, loop });
  const guest = new VmbusGuest({ memory, allocator, signals, hostDoorbell, link: guestLink, loop });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return { memory, allocator, host, guest, loop, hostLink, guestLink, settle };
}
