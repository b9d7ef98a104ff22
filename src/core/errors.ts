/**
 * One error family for the whole project. Expected conditions (empty ring, full ring, no free
 * section) are return values; these are for things that should not happen: bytes that do not
 * decode, a peer out of sequence, corrupt shared state, bad configuration.
 */
export type ErrorCode =
  | 'TRUNCATED' // a length runs past the bytes that contain it
  | 'MALFORMED' // bytes that decode but break a rule of the protocol
  | 'UNSUPPORTED' // a type or version we do not speak
  | 'UNEXPECTED_MESSAGE' // a peer broke the sequence
  | 'BAD_VERSION' // version negotiation failed
  | 'RING_CORRUPT' // ring indexes or descriptors outside the ring
  | 'BAD_GPADL' // a GPADL handle, page or range that does not exist
  | 'BAD_TRANSACTION' // unknown, duplicate or stale transaction id
  | 'CHANNEL_CLOSED' // rescinded or closed channel
  | 'LIMIT' // a shared resource is exhausted
  | 'BUSY' // a resource is in use (GPADL teardown while mapped)
  | 'TIMEOUT'
  | 'BAD_CONFIG'; // a bad option, flag or scenario

export class NetvscError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bytes that do not decode (wire layer). */
export class WireError extends NetvscError {}
/** A peer broke the protocol: wrong sequence, bad status, bad id. */
export class ProtocolError extends NetvscError {}
/** Shared resources: rings, GPADLs, sections, ids. */
export class ResourceError extends NetvscError {}
/** Bad options, flags, scenarios: the user's input. */
export class ConfigError extends NetvscError {}

export function isNetvscError(e: unknown): e is NetvscError {
  return e instanceof NetvscError;
}
