// vmbus: the transport between the netvsc guest and the emulated host (protocol.md §2).
// Owns guest memory, GPADLs, rings, signals, channels and the two bus ends. Imports core and wire
// only. Start reading at docs/vmbus.md, then ring-writer.ts / ring-reader.ts.
export * from './guest-memory.js';
export * from './gpadl.js';
export * from './counters.js';
export * from './ring-memory.js';
export * from './ring-writer.js';
export * from './ring-reader.js';
export * from './vmbus-packet.js';
export * from './signal.js';
export * from './requestor.js';
export * from './event-loop.js';
export * from './channel.js';
export * from './link.js';
export * from './host-bus.js';
export * from './guest-bus.js';
export * from './vm-shared.js';
export * from './pending-replies.js';
