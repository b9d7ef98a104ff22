// guest: the netvsc driver. Imports core, wire, packet and vmbus only (never host).
export * from './netvsc/index.js';
