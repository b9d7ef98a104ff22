// io: the outside world for VM NICs: TAP interfaces (addon + worker + SAB rings), network
// namespaces with crash-safe teardown, pcap capture and JSON-lines traces. Implements core's
// FramePort; imports only core, wire and packet. Start reading at tap/tap-device.ts and netns.ts.
export * from './tap/addon.js';
export * from './netns.js';
export * from './netns-state.js';
export * from './run-command.js';
export * from './tap/vnet-header.js';
export * from './tap/frame-ring.js';
export * from './tap/tap-port.js';
export * from './tap/tap-device.js';
export * from './tap/relay.js';
export * from './pcap/pcap-format.js';
export * from './pcap/pcap-writer.js';
export * from './pcap/pcap-reader.js';
export * from './pcap/trace-writer.js';
