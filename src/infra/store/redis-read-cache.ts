import { Logger } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';

/** The channel Redis publishes invalidations on when tracking redirects them to a RESP2 connection. */
const INVALIDATION_CHANNEL = '__redis__:invalidate';
/** Entries kept; the oldest goes first when full. 10,000 records of about 1.5 KB are about 15 MB. */
export const READ_CACHE_MAX_ENTRIES = 10_000;
/** A safety net: an entry older than this is read again even though no invalidation came. */
export const READ_CACHE_MAX_AGE_MS = 30_000;

interface Entry {
  raw: string | null;
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
    /** Reads while the cache is not live go through the store's main connection. */
    private readonly fallback: (key: string) => Promise<string | null>,
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

  /** The raw value of a (prefixed) key: from this process when a current copy is held, else from Redis. */
  async read(key: string): Promise<string | null> {
    if (!this.live) return this.fallback(key);
    const held = this.entries.get(key);
    if (held !== undefined && Date.now() - held.at < READ_CACHE_MAX_AGE_MS) {
      this.hits++;
      return held.raw;
    }
    this.misses++;
    const generation = this.generation;
    const raw = await this.reader.get(key);
    if (this.live && generation === this.generation) {
      if (held === undefined && this.entries.size >= READ_CACHE_MAX_ENTRIES) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
      this.entries.set(key, { raw, at: Date.now() });
    }
    return raw;
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
    for (const entry of this.entries.values()) bytes += entry.raw?.length ?? 0;
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
