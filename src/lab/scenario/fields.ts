/**
 * A tiny reader for untrusted JSON that collects every problem instead of stopping at the
 * first, each one prefixed with the path of the field (`flows[2].size: …`), so a user fixes a
 * scenario in one pass. Readers return `undefined` for a missing or bad value; callers fill
 * defaults, and the collected issues decide whether the result is used at all.
 */

/** A JSON object as read from a file: keys to unknown values. */
export type JsonObject = Readonly<Record<string, unknown>>;

export class Issues {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
  get count(): number {
    return this.list.length;
  }
}

/** `a.b` for a key, `a[3]` for an index; the root path is the empty string. */
export function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  // Keys that are not plain names are quoted, so the path stays readable and unambiguous.
  if (!/^[A-Za-z_][\w-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Reads fields of one JSON object; every read records its key so unknown keys can be reported. */
export class FieldReader {
  private readonly seen = new Set<string>();
  constructor(
    readonly obj: JsonObject,
    readonly path: string,
    readonly issues: Issues,
  ) {}

  /** Wraps `v` if it is an object, else records an issue at `path` and returns undefined. */
  static of(v: unknown, path: string, issues: Issues): FieldReader | undefined {
    if (isObject(v)) return new FieldReader(v, path, issues);
    issues.add(path || '(top level)', `must be an object, got ${describe(v)}`);
    return undefined;
  }

  at(key: string): string {
    return child(this.path, key);
  }

  has(key: string): boolean {
    this.seen.add(key);
    return Object.prototype.hasOwnProperty.call(this.obj, key) && this.obj[key] !== undefined;
  }

  raw(key: string): unknown {
    this.seen.add(key);
    return Object.prototype.hasOwnProperty.call(this.obj, key) ? this.obj[key] : undefined;
  }

  fail(key: string, message: string): undefined {
    this.issues.add(this.at(key), message);
    return undefined;
  }

  /** An integer in [min, max]; the message states the range, as in `must be an integer 60..65535`. */
  int(key: string, min: number, max: number): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw(key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      return this.fail(key, `must be an integer ${min}..${max}, got ${describe(v)}`);
    }
    return v;
  }

  /** A finite number in [min, max]. */
  num(key: string, min: number, max: number): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw(key);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      return this.fail(key, `must be a number ${min}..${max}, got ${describe(v)}`);
    }
    return v;
  }

  bool(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw(key);
    if (typeof v !== 'boolean') return this.fail(key, `must be true or false, got ${describe(v)}`);
    return v;
  }

  /** A string matching `pattern` (whose meaning `what` names in the message). */
  str(key: string, pattern?: RegExp, what?: string): string | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw(key);
    if (typeof v !== 'string') return this.fail(key, `must be a string, got ${describe(v)}`);
    if (pattern && !pattern.test(v)) return this.fail(key, `must be ${what ?? `a string matching ${String(pattern)}`}, got ${describe(v)}`);
    return v;
  }

  /** One of a fixed set of strings. */
  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw(key);
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      return this.fail(key, `must be one of ${values.join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }

  /** An array (of anything; the caller reads the items). */
  array(key: string, maxItems: number): readonly unknown[] | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw(key);
    if (!Array.isArray(v)) return this.fail(key, `must be an array, got ${describe(v)}`);
    if (v.length > maxItems) return this.fail(key, `must have at most ${maxItems} items, got ${v.length}`);
    return v;
  }

  require(key: string): boolean {
    if (this.has(key)) return true;
    this.fail(key, 'is required');
    return false;
  }

  /** Reports every key that no reader asked for: typos must not pass silently. */
  rejectUnknown(): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.seen.has(k)) this.issues.add(this.at(k), `unknown field (known: ${[...this.seen].join(', ')})`);
    }
  }
}
