import { createHash } from 'node:crypto';

/** Enough for every key of a deployment; a flood of random keys only evicts the oldest entries. */
const MAX_CACHED_KEYS = 1024;

export interface KeyDigest {
  /** sha256 of the key: what the API-key guard compares in constant time. */
  digest: Buffer;
  /** Rate-limit client id for the key: never the key itself, which would end up in store keys. */
  tracker: string;
}

const cache = new Map<string, KeyDigest>();

/** Digest of a presented API key, memoised because the same few keys arrive on every request. */
export function keyDigest(key: string): KeyDigest {
  let entry = cache.get(key);
  if (!entry) {
    const digest = createHash('sha256').update(key).digest();
    entry = { digest, tracker: `key:${digest.toString('hex', 0, 16)}` };
    if (cache.size >= MAX_CACHED_KEYS) cache.delete(cache.keys().next().value as string);
    cache.set(key, entry);
  }
  return entry;
}
