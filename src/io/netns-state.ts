/**
 * The record of every namespace and interface we create, kept in a JSON file so that `down()`
 * can clean up after a crash. Pure logic lives here (names, plan); netns.ts does the I/O.
 *
 * Rule: an entry is written BEFORE the object is created and removed only AFTER it is gone, so a
 * crash at any point leaves at worst a record of something that no longer exists.
 */
import { ConfigError } from '../core/index.js';

export interface LinkRecord {
  readonly name: string;
  /** The namespace the link lives in, or null for the root namespace. */
  readonly netns: string | null;
}

export interface NetnsState {
  readonly version: 1;
  readonly prefix: string;
  readonly namespaces: readonly string[];
  readonly links: readonly LinkRecord[];
}

/** Linux IFNAMSIZ is 16 including the NUL. */
export const MAX_LINK_NAME_LEN = 15;
const NAME_RE = /^[A-Za-z0-9_.-]+$/;

export function emptyState(prefix: string): NetnsState {
  return { version: 1, prefix, namespaces: [], links: [] };
}

/** Throws ConfigError unless `name` is a safe name carrying our prefix. */
export function checkOwnedName(prefix: string, name: string, kind: 'namespace' | 'link'): void {
  if (!name.startsWith(prefix) || name.length === prefix.length) throw new ConfigError('BAD_CONFIG', `${kind} ${name} does not carry the prefix ${prefix}`);
  if (!NAME_RE.test(name)) throw new ConfigError('BAD_CONFIG', `${kind} name ${name} has characters outside [A-Za-z0-9_.-]`);
  if (kind === 'link' && name.length > MAX_LINK_NAME_LEN) throw new ConfigError('BAD_CONFIG', `link name ${name} is longer than ${MAX_LINK_NAME_LEN} bytes`);
}

/** Checks a prefix: short enough to leave room in a 15-byte link name, and safe characters only. */
export function checkPrefix(prefix: string): void {
  if (!NAME_RE.test(prefix) || prefix.length < 3 || prefix.length > 10) {
    throw new ConfigError('BAD_CONFIG', `prefix ${JSON.stringify(prefix)} must be 3..10 characters of [A-Za-z0-9_.-]`);
  }
}

/**
 * Parses a state file's text. A file that does not parse, or entries without our prefix, are
 * ignored rather than trusted: the prefix sweep still finds what is really ours.
 */
export function parseState(text: string, prefix: string): NetnsState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return emptyState(prefix);
  }
  if (typeof raw !== 'object' || raw === null) return emptyState(prefix);
  const o = raw as { namespaces?: unknown; links?: unknown };
  const ours = (n: unknown): n is string => typeof n === 'string' && n.startsWith(prefix) && n.length > prefix.length && NAME_RE.test(n);
  const namespaces = Array.isArray(o.namespaces) ? o.namespaces.filter(ours) : [];
  const links: LinkRecord[] = [];
  if (Array.isArray(o.links)) {
    for (const l of o.links as unknown[]) {
      if (typeof l !== 'object' || l === null) continue;
      const { name, netns } = l as { name?: unknown; netns?: unknown };
      if (ours(name) && (netns === null || ours(netns))) links.push({ name, netns });
    }
  }
  return { version: 1, prefix, namespaces: [...new Set(namespaces)], links };
}

export function withNamespace(s: NetnsState, ns: string): NetnsState {
  return s.namespaces.includes(ns) ? s : { ...s, namespaces: [...s.namespaces, ns] };
}

export function withoutNamespace(s: NetnsState, ns: string): NetnsState {
  return { ...s, namespaces: s.namespaces.filter((n) => n !== ns), links: s.links.filter((l) => l.netns !== ns) };
}

export function withLink(s: NetnsState, link: LinkRecord): NetnsState {
  const rest = s.links.filter((l) => l.name !== link.name || l.netns !== link.netns);
  return { ...s, links: [...rest, link] };
}

export function withoutLink(s: NetnsState, link: LinkRecord): NetnsState {
  return { ...s, links: s.links.filter((l) => l.name !== link.name || l.netns !== link.netns) };
}

export interface TeardownPlan {
  /** Namespaces to delete (with every process and interface inside them). */
  readonly namespaces: readonly string[];
  /** Links to delete that do not die with one of those namespaces. */
  readonly links: readonly LinkRecord[];
}

/**
 * What down() deletes: recorded namespaces and links that still exist, plus every existing
 * namespace and root-namespace link whose name carries the prefix. Nothing else, ever.
 */
export function planTeardown(
  s: NetnsState,
  existingNamespaces: readonly string[],
  existingRootLinks: readonly string[],
): TeardownPlan {
  const p = s.prefix;
  const namespaces = existingNamespaces.filter((n) => n.startsWith(p) && n.length > p.length);
  const dying = new Set(namespaces);
  const links: LinkRecord[] = [];
  const seen = new Set<string>();
  const add = (l: LinkRecord): void => {
    const key = `${l.netns ?? ''}/${l.name}`;
    if (!seen.has(key)) {
      seen.add(key);
      links.push(l);
    }
  };
  for (const l of s.links) {
    if (l.netns === null ? existingRootLinks.includes(l.name) : existingNamespaces.includes(l.netns) && !dying.has(l.netns)) add(l);
  }
  for (const name of existingRootLinks) if (name.startsWith(p) && name.length > p.length) add({ name, netns: null });
  return { namespaces, links };
}
