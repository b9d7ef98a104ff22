// core: errors, clock, counters. Imports nothing; everything else may import it.
export * from './errors.js';
export * from './clock.js';
export * from './counters.js';
export * from './worker-url.js';
export * from './frame-port.js';
export * from './message-observer.js';
