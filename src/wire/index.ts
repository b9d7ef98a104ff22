export * from './net/index.js';
export * from './vmbus/channel-messages.js';
