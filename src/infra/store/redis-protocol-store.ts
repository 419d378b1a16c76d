import { randomUUID } from 'node:crypto';
import {
  BatchSetEntry,
  Lease,
  RateLimitHit,
  RangeOptions,
  SetOptions,
  SortedSetMember,
  StateStore,
  WriteOp,
} from './state-store';
import {
  ACQUIRE_LEASE_SCRIPT,
  DELETE_IF_OWNER_SCRIPT,
  EXTEND_IF_OWNER_SCRIPT,
  INCREMENT_SCRIPT,
  PLACE_MEMBERS_SCRIPT,
  RATE_LIMIT_HIT_SCRIPT,
} from './redis-scripts';
import { storeCall } from './store-errors';
import { decodeValue, encodeValue, escapeGlob, formatScoreBound, parseScore, StoreKeys } from './store-keys';
import { MutexBackend, MutexOptions, runWithMutex } from './store-mutex';

export type RedisArg = string | number;

/** One write of a batch, already encoded and prefixed. */
export type RawWriteOp =
  | { op: 'set'; key: string; json: string; ttlMs?: number }
  | { op: 'delete'; key: string }
  | { op: 'sortedSetAdd'; key: string; members: SortedSetMember[] }
  | { op: 'sortedSetRemove'; key: string; members: string[] }
  | { op: 'eval'; script: string; keys: string[]; args: string[] };

const SCAN_COUNT = 1000;
/** Members a ZSCAN call looks at: a set of ten thousand is matched in one or two round trips. */
const ZSCAN_COUNT = 10_000;

/**
 * Everything both Redis-speaking adapters share: key layout, encoding, Lua scripts and error
 * classification. Subclasses only say how one command, and one batch of SETs, reach the server.
 */
export abstract class RedisProtocolStore extends StateStore implements MutexBackend {
  protected constructor(protected readonly keys: StoreKeys) {
    super();
  }

  /** Sends one command; resolves with the raw reply (strings, numbers, nulls, arrays). */
  protected abstract command<T>(args: [string, ...RedisArg[]]): Promise<T>;
  /** Sends every write in one round trip, in order; rejects when any write failed. */
  protected abstract sendBatch(ops: RawWriteOp[]): Promise<void>;

  /**
   * Told the physical keys a write changes, when it is sent and again when it has answered (or
   * failed): a subclass caching reads drops them. Scripts and sorted sets are not reported; no
   * cached read is of such a key.
   */
  protected keysWritten(_keys: readonly string[]): void {}

  private async writing<T>(keys: readonly string[], send: () => Promise<T>): Promise<T> {
    this.keysWritten(keys);
    try {
      return await send();
    } finally {
      this.keysWritten(keys);
    }
  }

  get<T>(key: string): Promise<T | null> {
    return storeCall('get', async () =>
      decodeValue<T>(await this.command<string | null>(['GET', this.keys.data(key)])),
    );
  }

  set<T>(key: string, value: T, options: SetOptions = {}): Promise<boolean> {
    const physical = this.keys.data(key);
    const args: [string, ...RedisArg[]] = ['SET', physical, encodeValue(value)];
    if (options.ttlMs !== undefined && options.ttlMs > 0) args.push('PX', Math.ceil(options.ttlMs));
    if (options.onlyIfAbsent) args.push('NX');
    return storeCall('set', () =>
      this.writing([physical], async () => (await this.command<string | null>(args)) !== null),
    );
  }

  delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return Promise.resolve(0);
    const physical = keys.map((k) => this.keys.data(k));
    return storeCall('delete', () =>
      this.writing(physical, () => this.command<number>(['DEL', ...physical])),
    );
  }

  getMany<T>(keys: string[]): Promise<(T | null)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return storeCall('getMany', async () => {
      const raw = await this.command<(string | null)[]>(['MGET', ...keys.map((k) => this.keys.data(k))]);
      return raw.map((value) => decodeValue<T>(value));
    });
  }

  setMany<T>(entries: BatchSetEntry<T>[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return this.batch(
      'setMany',
      entries.map((e) => ({ op: 'set', ...e })),
    );
  }

  writeBatch(ops: WriteOp[]): Promise<void> {
    return this.batch('writeBatch', ops);
  }

  private batch(name: string, ops: WriteOp[]): Promise<void> {
    const raw: RawWriteOp[] = [];
    for (const op of ops) {
      if (op.op === 'sortedSetPlace') {
        if (op.members.length === 0) continue;
        const args = op.members.flatMap((m) => [m.member, formatScoreBound(m.score), m.in.join(',')]);
        raw.push({
          op: 'eval',
          script: PLACE_MEMBERS_SCRIPT,
          keys: op.keys.map((k) => this.keys.data(k)),
          args: [String(op.members.length), ...args],
        });
        continue;
      }
      const key = this.keys.data(op.key);
      if (op.op === 'set') {
        const ttlMs = op.ttlMs !== undefined && op.ttlMs > 0 ? Math.ceil(op.ttlMs) : undefined;
        raw.push({ op: 'set', key, json: encodeValue(op.value), ttlMs });
      } else if (op.op === 'delete') {
        raw.push({ op: 'delete', key });
      } else if (op.members.length > 0) {
        // ZADD / ZREM with no member is a syntax error.
        raw.push({ ...op, key } as RawWriteOp);
      }
    }
    if (raw.length === 0) return Promise.resolve();
    const written = raw.flatMap((op) => (op.op === 'set' || op.op === 'delete' ? [op.key] : []));
    return storeCall(name, () => this.writing(written, () => this.sendBatch(raw)));
  }

  scanKeys(prefix: string): Promise<string[]> {
    return storeCall('scanKeys', async () => {
      const found = new Set<string>();
      const pattern = this.keys.scanPattern(prefix);
      let cursor = '0';
      do {
        const [next, batch] = await this.command<[string, string[]]>([
          'SCAN',
          cursor,
          'MATCH',
          pattern,
          'COUNT',
          SCAN_COUNT,
        ]);
        cursor = String(next);
        for (const physical of batch) {
          const logical = this.keys.toLogical(physical);
          if (logical !== null) found.add(logical);
        }
      } while (cursor !== '0');
      return [...found];
    });
  }

  increment(key: string, by = 1, ttlMs?: number): Promise<number> {
    const ttl = ttlMs !== undefined && ttlMs > 0 ? Math.ceil(ttlMs) : 0;
    const physical = this.keys.data(key);
    return storeCall('increment', () =>
      this.writing([physical], async () =>
        Number(await this.command<number>(['EVAL', INCREMENT_SCRIPT, 1, physical, by, ttl])),
      ),
    );
  }

  hitRateLimit(key: string, windowMs: number, limit: number, blockMs: number, by = 1): Promise<RateLimitHit> {
    return storeCall('hitRateLimit', async () => {
      const [hits, resetInMs, blockedForMs, granted] = await this.command<[number, number, number, number]>([
        'EVAL',
        RATE_LIMIT_HIT_SCRIPT,
        2,
        this.keys.data(key),
        this.keys.data(`${key}:blocked`),
        Math.max(1, Math.ceil(windowMs)),
        limit,
        Math.max(0, Math.ceil(blockMs)),
        Math.max(1, Math.floor(by)),
      ]);
      return {
        hits: Number(hits),
        resetInMs: Number(resetInMs),
        blockedForMs: Number(blockedForMs),
        granted: Number(granted),
      };
    });
  }

  ttl(key: string): Promise<number> {
    return storeCall('ttl', async () => Number(await this.command<number>(['PTTL', this.keys.data(key)])));
  }

  sortedSetAdd(key: string, members: SortedSetMember[]): Promise<void> {
    if (members.length === 0) return Promise.resolve();
    const flat = members.flatMap(({ member, score }) => [formatScoreBound(score), member]);
    return storeCall('sortedSetAdd', async () => {
      await this.command(['ZADD', this.keys.data(key), ...flat]);
    });
  }

  sortedSetRangeByScore(
    key: string,
    min: number,
    max: number,
    limit?: number,
    options: RangeOptions & { offset?: number } = {},
  ): Promise<SortedSetMember[]> {
    const [low, high] = [formatScoreBound(min), formatScoreBound(max)];
    const args: [string, ...RedisArg[]] = options.reverse
      ? ['ZREVRANGEBYSCORE', this.keys.data(key), high, low, 'WITHSCORES']
      : ['ZRANGEBYSCORE', this.keys.data(key), low, high, 'WITHSCORES'];
    const offset = Math.max(0, options.offset ?? 0);
    const count = limit !== undefined && limit >= 0 ? limit : -1;
    if (offset > 0 || count >= 0) args.push('LIMIT', offset, count);
    return storeCall('sortedSetRangeByScore', async () => withScores(await this.command<string[]>(args)));
  }

  sortedSetRange(
    key: string,
    start: number,
    stop: number,
    options: RangeOptions = {},
  ): Promise<SortedSetMember[]> {
    // ZREVRANGE rather than ZRANGE ... REV: the latter needs Redis 6.2.
    const name = options.reverse ? 'ZREVRANGE' : 'ZRANGE';
    return storeCall('sortedSetRange', async () =>
      withScores(await this.command<string[]>([name, this.keys.data(key), start, stop, 'WITHSCORES'])),
    );
  }

  sortedSetCount(key: string, min = -Infinity, max = Infinity): Promise<number> {
    const whole = min === -Infinity && max === Infinity;
    return storeCall('sortedSetCount', async () =>
      Number(
        await this.command<number>(
          whole
            ? ['ZCARD', this.keys.data(key)]
            : ['ZCOUNT', this.keys.data(key), formatScoreBound(min), formatScoreBound(max)],
        ),
      ),
    );
  }

  sortedSetFind(key: string, text: string): Promise<SortedSetMember[]> {
    return storeCall('sortedSetFind', async () => {
      // ZSCAN may return a member twice; the map keeps one.
      const found = new Map<string, number>();
      const pattern = `*${escapeGlob(text)}*`;
      let cursor = '0';
      do {
        const [next, flat] = await this.command<[string, string[]]>([
          'ZSCAN',
          this.keys.data(key),
          cursor,
          'MATCH',
          pattern,
          'COUNT',
          ZSCAN_COUNT,
        ]);
        cursor = String(next);
        for (const { member, score } of withScores(flat)) found.set(member, score);
      } while (cursor !== '0');
      return [...found].map(([member, score]) => ({ member, score }));
    });
  }

  sortedSetScores(key: string, members: string[]): Promise<(number | null)[]> {
    if (members.length === 0) return Promise.resolve([]);
    return storeCall('sortedSetScores', async () => {
      const raw = await this.command<(string | null)[]>(['ZMSCORE', this.keys.data(key), ...members]);
      return raw.map((score) => (score === null ? null : parseScore(score)));
    });
  }

  sortedSetRemove(key: string, ...members: string[]): Promise<number> {
    if (members.length === 0) return Promise.resolve(0);
    return storeCall('sortedSetRemove', () =>
      this.command<number>(['ZREM', this.keys.data(key), ...members]),
    );
  }

  sortedSetScore(key: string, member: string): Promise<number | null> {
    return storeCall('sortedSetScore', async () => {
      const raw = await this.command<string | null>(['ZSCORE', this.keys.data(key), member]);
      return raw === null ? null : parseScore(raw);
    });
  }

  acquireLease(name: string, ttlMs: number): Promise<Lease | null> {
    const owner = randomUUID();
    const startedAt = Date.now();
    return storeCall('acquireLease', async () => {
      const fence = await this.command<number | null>([
        'EVAL',
        ACQUIRE_LEASE_SCRIPT,
        2,
        this.keys.lease(name),
        this.keys.fence(name),
        owner,
        Math.ceil(ttlMs),
      ]);
      if (fence === null) return null;
      // Measured from before the call, so the holder never believes it has more time than it does.
      return { name, owner, fencingToken: Number(fence), expiresAt: startedAt + ttlMs };
    });
  }

  renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const startedAt = Date.now();
    return storeCall('renewLease', async () => {
      const args: [string, ...RedisArg[]] = ['EVAL', EXTEND_IF_OWNER_SCRIPT, 1, this.keys.lease(lease.name)];
      const renewed = Number(await this.command<number>([...args, lease.owner, Math.ceil(ttlMs)])) === 1;
      if (renewed) lease.expiresAt = startedAt + ttlMs;
      return renewed;
    });
  }

  releaseLease(lease: Lease): Promise<boolean> {
    return storeCall('releaseLease', async () => {
      const args: [string, ...RedisArg[]] = [
        'EVAL',
        DELETE_IF_OWNER_SCRIPT,
        1,
        this.keys.lease(lease.name),
        lease.owner,
      ];
      return Number(await this.command<number>(args)) === 1;
    });
  }

  withMutex<T>(key: string, fn: () => Promise<T>, opts?: MutexOptions): Promise<T> {
    return runWithMutex(this, key, fn, opts);
  }

  tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return storeCall('withMutex', async () => {
      const reply = await this.command<string | null>([
        'SET',
        this.keys.mutex(key),
        token,
        'NX',
        'PX',
        Math.ceil(ttlMs),
      ]);
      return reply !== null;
    });
  }

  unlock(key: string, token: string): Promise<void> {
    return storeCall('withMutex', async () => {
      await this.command(['EVAL', DELETE_IF_OWNER_SCRIPT, 1, this.keys.mutex(key), token]);
    });
  }

  ping(): Promise<void> {
    return storeCall('ping', async () => {
      await this.command(['PING']);
    });
  }
}

/** A WITHSCORES reply (member, score, member, score ...) as members with scores. */
function withScores(flat: string[]): SortedSetMember[] {
  const members: SortedSetMember[] = [];
  for (let i = 0; i < flat.length; i += 2) members.push({ member: flat[i], score: parseScore(flat[i + 1]) });
  return members;
}
