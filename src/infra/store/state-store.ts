/**
 * The one port every module uses for shared state. Keys passed in are logical (unprefixed);
 * each adapter applies the configured key prefix itself. Values are JSON-serialisable.
 * Nothing Redis-specific leaks past this class.
 */
export interface SetOptions {
  /** Time to live in milliseconds. */
  ttlMs?: number;
  /** Only set when the key does not exist yet (returns false when it did). */
  onlyIfAbsent?: boolean;
}

export interface BatchSetEntry<T = unknown> {
  key: string;
  value: T;
  ttlMs?: number;
}

export interface SortedSetMember {
  member: string;
  score: number;
}

/** One write of a batch (see writeBatch). */
export type WriteOp =
  | { op: 'set'; key: string; value: unknown; ttlMs?: number }
  | { op: 'delete'; key: string }
  | { op: 'sortedSetAdd'; key: string; members: SortedSetMember[] }
  | { op: 'sortedSetRemove'; key: string; members: string[] }
  | { op: 'sortedSetPlace'; keys: string[]; members: PlacedMember[] };

/**
 * A member filed in some sorted sets of a family and taken out of the others: `in` lists the
 * positions (0-based) in the op's keys of the sets it belongs to, with this score.
 */
export interface PlacedMember {
  member: string;
  score: number;
  in: number[];
}

export interface RangeOptions {
  /** Highest score first (ties: highest member first), as ZREVRANGE. */
  reverse?: boolean;
}

export interface Lease {
  name: string;
  /** Random token identifying the holder; only it can renew or release. */
  owner: string;
  /** Strictly increasing across every acquisition of this lease name. */
  fencingToken: number;
  expiresAt: number;
}

/** Outcome of one rate-limited request (see StateStore.hitRateLimit). */
export interface RateLimitHit {
  /** Requests counted in the current window; limit + 1 while blocked (blocked requests are not counted). */
  hits: number;
  /** Ms until the window ends, or while blocked until the block ends. */
  resetInMs: number;
  /** 0 when the request is allowed; otherwise how long this client stays refused, in ms. */
  blockedForMs: number;
  /** Hits reserved by this call (1..by) when allowed; 0 when refused. */
  granted: number;
}

export abstract class StateStore {
  /** Human-readable adapter kind: memory, redis or upstash. */
  abstract readonly kind: 'memory' | 'redis' | 'upstash';

  abstract get<T>(key: string): Promise<T | null>;
  /**
   * A read that may be answered from this process's copy, for read-only paths (never inside a
   * read-modify-write). Redis keeps the copy current (client-side caching with invalidation); a
   * change made on another replica is seen once Redis' invalidation arrives. Other stores read.
   * The value may be shared with other readers and frozen: treat it as read-only.
   */
  getCached<T>(key: string): Promise<T | null> {
    return this.get<T>(key);
  }
  /**
   * getCached without waiting: the value (or null for a missing key) when this process can answer
   * from memory, undefined when answering would take a round trip. For answers served before Fastify
   * and Nest (infra/http/inline-answers.ts); the same read-only rules as getCached apply.
   */
  peekCached<T>(_key: string): T | null | undefined {
    return undefined;
  }
  /** getMany with getCached's rules. */
  getManyCached<T>(keys: string[]): Promise<(T | null)[]> {
    return this.getMany<T>(keys);
  }
  /** Returns false only when onlyIfAbsent was set and the key existed. */
  abstract set<T>(key: string, value: T, options?: SetOptions): Promise<boolean>;
  abstract delete(...keys: string[]): Promise<number>;
  /** One round trip for the whole batch. Missing keys come back as null, in order. */
  abstract getMany<T>(keys: string[]): Promise<(T | null)[]>;
  /** One round trip for the whole batch. */
  abstract setMany<T>(entries: BatchSetEntry<T>[]): Promise<void>;
  /**
   * Every write in one round trip, applied in order: a record and the sorted sets indexing it are
   * written together. Not a transaction: a failure can leave part of the batch applied.
   * sortedSetPlace moves members between the sets of a family without knowing where they were,
   * as one command however many members and sets (it runs as a script on Redis).
   */
  abstract writeBatch(ops: WriteOp[]): Promise<void>;
  /** Every logical key starting with the prefix (order unspecified). */
  abstract scanKeys(prefix: string): Promise<string[]>;

  /** Atomic increment; the TTL is applied when the counter is created. Returns the new value. */
  abstract increment(key: string, by?: number, ttlMs?: number): Promise<number>;
  /** Remaining TTL in ms, -1 when the key has none, -2 when it does not exist. */
  abstract ttl(key: string): Promise<number>;

  /**
   * Counts one request against a fixed-window budget, atomically and in one round trip, so every
   * replica on the store shares exactly one counter per key. The first hit opens the window (its
   * TTL). The hit that exceeds the limit blocks the key for blockMs (0: until the window ends);
   * while blocked, requests are refused without being counted. Uses the keys key and `${key}:blocked`.
   * `by` reserves up to that many hits at once (a replica then spends them without asking again):
   * fewer are granted when fewer are left, never taking the counter past the limit; when none are
   * left the call counts one hit over the limit and blocks, as a single hit would.
   */
  abstract hitRateLimit(
    key: string,
    windowMs: number,
    limit: number,
    blockMs: number,
    by?: number,
  ): Promise<RateLimitHit>;

  abstract sortedSetAdd(key: string, members: SortedSetMember[]): Promise<void>;
  /**
   * Members with min <= score <= max, lowest score first (highest first with reverse), skipping
   * the first offset of them, at most limit of them. Equal scores are ordered by member, byte-wise.
   */
  abstract sortedSetRangeByScore(
    key: string,
    min: number,
    max: number,
    limit?: number,
    options?: RangeOptions & { offset?: number },
  ): Promise<SortedSetMember[]>;
  /**
   * Members by position (0-based, inclusive; negative counts from the end, -1 is the last), in
   * score order (reversed with reverse), as ZRANGE / ZREVRANGE.
   */
  abstract sortedSetRange(
    key: string,
    start: number,
    stop: number,
    options?: RangeOptions,
  ): Promise<SortedSetMember[]>;
  /** Number of members (0 for a missing key), only those with min <= score <= max when given. */
  abstract sortedSetCount(key: string, min?: number, max?: number): Promise<number>;
  /**
   * Members whose text contains `text` (case-sensitive), in no particular order. The store does the
   * matching, so only matches travel; a large set may take a few round trips.
   */
  abstract sortedSetFind(key: string, text: string): Promise<SortedSetMember[]>;
  /** The score of each member, in order; null where it is not in the set. One round trip. */
  abstract sortedSetScores(key: string, members: string[]): Promise<(number | null)[]>;
  abstract sortedSetRemove(key: string, ...members: string[]): Promise<number>;
  abstract sortedSetScore(key: string, member: string): Promise<number | null>;

  /** Takes the lease when it is free or expired; null when someone else holds it. */
  abstract acquireLease(name: string, ttlMs: number): Promise<Lease | null>;
  /** Extends the lease if the caller still owns it; false otherwise (it was lost). */
  abstract renewLease(lease: Lease, ttlMs: number): Promise<boolean>;
  /** Releases only if the caller still owns it. */
  abstract releaseLease(lease: Lease): Promise<boolean>;

  /**
   * Runs fn while holding a per-key mutex shared by every replica on this store.
   * Waits up to waitMs for the mutex, then throws AppError(OPERATION_IN_PROGRESS).
   */
  abstract withMutex<T>(
    key: string,
    fn: () => Promise<T>,
    opts?: { ttlMs?: number; waitMs?: number },
  ): Promise<T>;

  /** Round trip to the backing store; throws when it is unreachable. */
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}
