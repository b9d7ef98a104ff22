import type { MessagePort } from 'node:worker_threads';

/**
 * The SynIC message path (§2.12–2.13): carries channel-management messages (≤ 240 B) between the
 * guest and the host, never packets. A MessagePort between workers, or an in-memory queue in
 * single-thread mode.
 */
export interface MessageLink {
  send(msg: Uint8Array): void;
  /** Set by the bus end that owns this link. */
  onMessage: (msg: Uint8Array) => void;
  close(): void;
}

/**
 * Two linked ends in one thread. Messages are delivered in order from a microtask, so a test awaits
 * a bus call and every reply it causes has arrived: deterministic, no timers.
 */
export function inMemoryLinkPair(): [MessageLink, MessageLink] {
  const make = (): MessageLink & { peer: MessageLink | null; closed: boolean } => ({
    peer: null,
    closed: false,
    onMessage: () => {},
    send(msg) {
      const copy = msg.slice();
      const peer = this.peer;
      if (this.closed || !peer) return;
      queueMicrotask(() => peer.onMessage(copy));
    },
    close() {
      this.closed = true;
    },
  });
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A link over a worker MessagePort; messages are copied (structured clone), as SynIC copies. */
export class PortLink implements MessageLink {
  onMessage: (msg: Uint8Array) => void = () => {};

  constructor(private readonly port: MessagePort) {
    port.on('message', (m: unknown) => {
      if (m instanceof Uint8Array) this.onMessage(m);
    });
  }

  send(msg: Uint8Array): void {
    this.port.postMessage(msg);
  }

  close(): void {
    this.port.close();
  }
}
