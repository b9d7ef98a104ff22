// wire/net: Ethernet, 802.1Q, ARP, IPv4, IPv6, TCP, UDP and ICMP views and header writers.
// Imports only core. Start with view.ts (the bind-once contract), then ethernet.ts.
export * from './protocols.js';
export { NetView } from './view.js';
export * from './ethernet.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './tcp.js';
export * from './udp.js';
export * from './arp.js';
export * from './icmp.js';
