/**
 * Physical key layout shared by the Redis and Upstash adapters. Callers pass logical keys; the
 * adapters turn them into physical ones here, so both adapters read each other's data.
 */

/** Internal keys (leases, fencing counters, mutexes) live under this namespace and are hidden from scans. */
export const INTERNAL_NAMESPACE = '__sys:';

export class StoreKeys {
  private readonly prefix: string;

  constructor(keyPrefix: string) {
    // "novita_api" becomes "novita_api:" so prefixes read as namespaces; an empty prefix stays empty.
    this.prefix = keyPrefix === '' || keyPrefix.endsWith(':') ? keyPrefix : `${keyPrefix}:`;
  }

  data(logicalKey: string): string {
    return this.prefix + logicalKey;
  }

  lease(name: string): string {
    return `${this.prefix}${INTERNAL_NAMESPACE}lease:${name}`;
  }

  /** The INCR counter behind a lease's fencing token; it never expires, so tokens never repeat. */
  fence(name: string): string {
    return `${this.prefix}${INTERNAL_NAMESPACE}fence:${name}`;
  }

  mutex(key: string): string {
    return `${this.prefix}${INTERNAL_NAMESPACE}mutex:${key}`;
  }

  /** SCAN MATCH pattern for every physical key whose logical key starts with logicalPrefix. */
  scanPattern(logicalPrefix: string): string {
    return `${escapeGlob(this.prefix + logicalPrefix)}*`;
  }

  /** The logical key of a physical key found by a scan, or null for internal keys. */
  toLogical(physicalKey: string): string | null {
    if (!physicalKey.startsWith(this.prefix)) return null;
    const logical = physicalKey.slice(this.prefix.length);
    return logical.startsWith(INTERNAL_NAMESPACE) ? null : logical;
  }
}

/** Escapes the glob metacharacters Redis' MATCH understands. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`);
}

export function encodeValue(value: unknown): string {
  const json = JSON.stringify(value);
  // JSON.stringify(undefined) is undefined; store null instead of the string "undefined".
  return json === undefined ? 'null' : json;
}

export function decodeValue<T>(raw: string | null | undefined): T | null {
  if (raw === null || raw === undefined) return null;
  return JSON.parse(raw) as T;
}

/** Redis reports infinite scores as "inf"/"-inf"; Number() would turn them into NaN. */
export function parseScore(raw: string | number): number {
  if (typeof raw === 'number') return raw;
  if (raw === 'inf' || raw === '+inf') return Number.POSITIVE_INFINITY;
  if (raw === '-inf') return Number.NEGATIVE_INFINITY;
  return Number(raw);
}

export function formatScoreBound(bound: number): string {
  if (bound === Number.POSITIVE_INFINITY) return '+inf';
  if (bound === Number.NEGATIVE_INFINITY) return '-inf';
  return String(bound);
}
