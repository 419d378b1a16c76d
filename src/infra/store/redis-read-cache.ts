import { Logger } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';

/** The channel Redis publishes invalidations on when tracking redirects them to a RESP2 connection. */
const INVALIDATION_CHANNEL = '__redis__:invalidate';
/**
 * Entries kept; the oldest goes first when full. Enough for 10,000 instances' records, Novita-id
 * index entries, sync marks and record versions; the records (about 0.8 KB of JSON each) weigh most.
 */
const READ_CACHE_MAX_ENTRIES = 50_000;
/**
 * A safety net: an entry older than this is read again even though no invalidation came. Longer
 * than the shortest automatic sync interval (5 minutes), so consecutive passes reuse their copies.
 */
const READ_CACHE_MAX_AGE_MS = 10 * 60_000;

interface Entry {
  /** The decoded value, frozen: every reader shares it. */
  value: unknown;
  /** Length of its JSON, for sizeBytes. */
  size: number;
  at: number;
}

export interface ReadCacheStats {
  /** False while the cache is not in use (connections down, or Redis refused tracking). */
  live: boolean;
  entries: number;
  hits: number;
  misses: number;
}

/**
 * Redis client-side caching (server-assisted, RESP2 redirect mode) for the reads that opt in
 * (StateStore.getCached). A reader connection has `CLIENT TRACKING ON REDIRECT <listener>`: Redis
 * remembers every key it read and, when any client (this process or another replica) changes or
 * deletes one, publishes the key on the listener connection, which drops the copy here.
 *
 * Consistency: this process's own writes drop their keys when sent and again when answered, so a
 * read that starts after a local write returns never sees an older value. Another replica's write
 * is seen once Redis' invalidation reaches this process (the time a reply takes over the network).
 * Any invalidation while a read is in flight keeps that read's answer out of the cache. If either
 * connection drops, or Redis refuses tracking, the cache is emptied and reads go to Redis as before.
 *
 * Values are decoded once and deeply frozen, so readers share them without copying: a caller that
 * tries to change one gets a TypeError instead of changing what the next reader sees.
 */
export class RedisReadCache {
  private readonly logger = new Logger(RedisReadCache.name);
  private readonly entries = new Map<string, Entry>();
  private readonly reader: Redis;
  private readonly listener: Redis;
  /** Bumped by every invalidation, local write and connection loss: a read started before it is not kept. */
  private generation = 0;
  /** Bumped when a connection drops, so a tracking set-up that raced with the drop is discarded. */
  private connections = 0;
  private listenerId: number | null = null;
  private starting = false;
  private refused = false;
  private live = false;
  private hits = 0;
  private misses = 0;

  constructor(
    url: string,
    options: RedisOptions,
    /** Decodes a stored JSON value (null for a missing key). */
    private readonly decode: (raw: string | null) => unknown,
    /** Reads while the cache is not live go through the store's main connection. */
    private readonly fallbackMany: (keys: string[]) => Promise<(string | null)[]>,
  ) {
    const own = { ...options, lazyConnect: true, autoResubscribe: false };
    this.reader = new Redis(url, own);
    this.listener = new Redis(url, own);
    for (const conn of [this.reader, this.listener]) {
      // The store's main connection reports outages; these two only stop the cache meanwhile.
      conn.on('error', () => undefined);
      conn.on('close', () => this.stop(conn === this.listener));
      conn.on('ready', () => void this.start());
      conn.connect().catch(() => undefined);
    }
    this.listener.on('messageBuffer', (channel: Buffer, keys: Buffer[] | Buffer | null) => {
      if (channel.toString() !== INVALIDATION_CHANNEL) return;
      this.generation++;
      // A null payload is a FLUSHALL / FLUSHDB: every key is gone.
      if (!Array.isArray(keys)) this.entries.clear();
      else for (const key of keys) this.entries.delete(key.toString());
    });
  }

  /**
   * The decoded, frozen values of (prefixed) keys, in order: this process's current copies, and one
   * MGET through the tracked connection for the rest.
   */
  async readMany(keys: string[]): Promise<unknown[]> {
    if (!this.live) return (await this.fallbackMany(keys)).map((raw) => this.frozen(raw));
    const now = Date.now();
    const values = new Array<unknown>(keys.length);
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const held = this.current(keys[i], now);
      if (held !== undefined) values[i] = held.value;
      else missing.push(i);
    }
    this.hits += keys.length - missing.length;
    if (missing.length === 0) return values;
    this.misses += missing.length;
    const generation = this.generation;
    const raws = await this.reader.mget(missing.map((i) => keys[i]));
    const keep = this.live && generation === this.generation;
    const at = Date.now();
    missing.forEach((i, j) => {
      values[i] = this.frozen(raws[j]);
      if (keep) this.remember(keys[i], values[i], raws[j], at);
    });
    return values;
  }

  /** This process's current copy of one (prefixed) key; undefined when readMany would go to Redis. */
  peek(key: string): unknown {
    if (!this.live) return undefined;
    const held = this.current(key, Date.now());
    if (held === undefined) return undefined;
    this.hits++;
    return held.value;
  }

  /** The copy of a key this process may still answer with (not past READ_CACHE_MAX_AGE_MS). */
  private current(key: string, now: number): Entry | undefined {
    const held = this.entries.get(key);
    return held !== undefined && now - held.at < READ_CACHE_MAX_AGE_MS ? held : undefined;
  }

  private frozen(raw: string | null): unknown {
    return deepFreeze(this.decode(raw));
  }

  private remember(key: string, value: unknown, raw: string | null, at: number): void {
    if (this.entries.size >= READ_CACHE_MAX_ENTRIES && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, size: raw?.length ?? 0, at });
  }

  /** This process changes these (prefixed) keys: called when the write is sent and when it answers. */
  written(keys: readonly string[]): void {
    this.generation++;
    for (const key of keys) this.entries.delete(key);
  }

  /** Forgets every copy (reads in flight are not kept either); the next reads go to Redis. */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  /** Approximate bytes held: the JSON of every copy. */
  sizeBytes(): number {
    let bytes = 0;
    for (const entry of this.entries.values()) bytes += entry.size;
    return bytes;
  }

  stats(): ReadCacheStats {
    return { live: this.live, entries: this.entries.size, hits: this.hits, misses: this.misses };
  }

  async close(): Promise<void> {
    this.stop(true);
    this.refused = true; // no restart while closing
    await Promise.all(
      [this.reader, this.listener].map((conn) =>
        conn.status === 'ready'
          ? conn.quit().then(
              () => undefined,
              () => conn.disconnect(),
            )
          : conn.disconnect(),
      ),
    );
  }

  private stop(listenerLost: boolean): void {
    this.live = false;
    this.connections++;
    this.generation++;
    this.entries.clear();
    if (listenerLost) this.listenerId = null;
  }

  /** Subscribes the listener (once per its connection) and turns tracking on for the reader. */
  private async start(): Promise<void> {
    if (this.live || this.starting || this.refused) return;
    if (this.reader.status !== 'ready' || this.listener.status !== 'ready') return;
    this.starting = true;
    const connections = this.connections;
    try {
      if (this.listenerId === null) {
        const id = Number(await this.listener.call('CLIENT', 'ID'));
        await this.listener.subscribe(INVALIDATION_CHANNEL);
        this.listenerId = id;
      }
      await this.reader.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(this.listenerId));
      if (connections === this.connections) this.live = true;
    } catch (err) {
      if (connections === this.connections && err instanceof Error && /ERR|NOPERM/.test(err.message)) {
        // Redis before 6, or a proxy or ACL that forbids tracking: reads simply go to Redis.
        this.refused = true;
        this.logger.warn({ err: err.message }, 'Redis refused client tracking; reads are not cached here');
      }
    } finally {
      this.starting = false;
    }
    // Try again: at once if a connection dropped (and maybe came back) meanwhile, else after a pause.
    if (!this.live && !this.refused)
      setTimeout(() => void this.start(), connections === this.connections ? 1000 : 0).unref();
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
