import { randomUUID } from 'node:crypto';
import { AppError, ErrorCode } from '../../common/errors';
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
import { decodeValue, encodeValue } from './store-keys';
import { MutexBackend, MutexOptions, runWithMutex } from './store-mutex';

type Entry =
  | { kind: 'value'; json: string; expiresAt?: number }
  | { kind: 'zset'; members: Map<string, number>; order?: ZsetOrder; expiresAt?: number };

/** A sorted set's members in both orders, built when first read after a change. */
interface ZsetOrder {
  ascending: SortedSetMember[];
  descending: SortedSetMember[];
}

interface Held {
  owner: string;
  expiresAt: number;
}

/** Expired entries are dropped when read; this many writes also trigger a full sweep. */
const SWEEP_EVERY_WRITES = 1000;

/**
 * Single-process store: state lives in this process only and is lost on restart. Values are kept
 * as JSON text so callers get copies, exactly as from Redis. TTLs follow Date.now().
 */
export class MemoryStateStore extends StateStore implements MutexBackend {
  readonly kind = 'memory' as const;

  private readonly entries = new Map<string, Entry>();
  private readonly leases = new Map<string, Held>();
  private readonly fences = new Map<string, number>();
  private readonly locks = new Map<string, Held>();
  private writesSinceSweep = 0;

  async get<T>(key: string): Promise<T | null> {
    const entry = this.live(key);
    if (!entry) return null;
    return decodeValue<T>(this.jsonOf(entry, key));
  }

  /** Everything is in memory: always answers (a copy, as get). */
  override peekCached<T>(key: string): T | null {
    const entry = this.live(key);
    return entry ? decodeValue<T>(this.jsonOf(entry, key)) : null;
  }

  async set<T>(key: string, value: T, options: SetOptions = {}): Promise<boolean> {
    if (options.onlyIfAbsent && this.live(key)) return false;
    this.write(key, { kind: 'value', json: encodeValue(value), expiresAt: expiryOf(options.ttlMs) });
    return true;
  }

  async delete(...keys: string[]): Promise<number> {
    let removed = 0;
    for (const key of keys) {
      if (this.live(key)) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  async getMany<T>(keys: string[]): Promise<(T | null)[]> {
    return Promise.all(keys.map((key) => this.get<T>(key)));
  }

  async setMany<T>(entries: BatchSetEntry<T>[]): Promise<void> {
    for (const entry of entries) {
      this.write(entry.key, {
        kind: 'value',
        json: encodeValue(entry.value),
        expiresAt: expiryOf(entry.ttlMs),
      });
    }
  }

  async writeBatch(ops: WriteOp[]): Promise<void> {
    for (const op of ops) {
      if (op.op === 'set') await this.set(op.key, op.value, { ttlMs: op.ttlMs });
      else if (op.op === 'delete') await this.delete(op.key);
      else if (op.op === 'sortedSetAdd') await this.sortedSetAdd(op.key, op.members);
      else if (op.op === 'sortedSetRemove') await this.sortedSetRemove(op.key, ...op.members);
      else {
        for (const { member, score, in: inside } of op.members) {
          for (const [i, key] of op.keys.entries()) {
            if (inside.includes(i)) await this.sortedSetAdd(key, [{ member, score }]);
            else await this.sortedSetRemove(key, member);
          }
        }
      }
    }
  }

  async scanKeys(prefix: string): Promise<string[]> {
    return [...this.entries.keys()].filter((key) => key.startsWith(prefix) && this.live(key));
  }

  async increment(key: string, by = 1, ttlMs?: number): Promise<number> {
    const entry = this.live(key);
    const current = entry ? Number(decodeValue<unknown>(this.jsonOf(entry, key))) : 0;
    if (!Number.isInteger(current)) {
      throw new AppError(ErrorCode.INTERNAL_ERROR, `Value at ${key} is not an integer counter`);
    }
    const next = current + by;
    // Like INCRBY: an existing counter keeps its TTL, a new one gets ttlMs.
    this.write(key, {
      kind: 'value',
      json: String(next),
      expiresAt: entry ? entry.expiresAt : expiryOf(ttlMs),
    });
    return next;
  }

  async ttl(key: string): Promise<number> {
    const entry = this.live(key);
    if (!entry) return -2;
    if (entry.expiresAt === undefined) return -1;
    return Math.max(0, entry.expiresAt - Date.now());
  }

  /** Same steps as RATE_LIMIT_HIT_SCRIPT, with no await in between, so it is atomic here too. */
  async hitRateLimit(
    key: string,
    windowMs: number,
    limit: number,
    blockMs: number,
    by = 1,
  ): Promise<RateLimitHit> {
    const now = Date.now();
    const blockKey = `${key}:blocked`;
    const block = this.live(blockKey);
    if (block?.expiresAt !== undefined) {
      const blocked = block.expiresAt - now;
      return { hits: limit + 1, resetInMs: blocked, blockedForMs: blocked, granted: 0 };
    }
    const counter = this.live(key);
    const current = counter ? Number(decodeValue<unknown>(this.jsonOf(counter, key))) : 0;
    const granted = Math.max(1, Math.min(Math.floor(by), limit - current));
    const hits = current + granted;
    const expiresAt = counter?.expiresAt ?? now + Math.max(1, windowMs);
    this.write(key, { kind: 'value', json: String(hits), expiresAt });
    const resetInMs = expiresAt - now;
    if (hits <= limit) return { hits, resetInMs, blockedForMs: 0, granted };
    const blockedForMs = blockMs > 0 ? blockMs : resetInMs;
    this.write(blockKey, { kind: 'value', json: '1', expiresAt: now + blockedForMs });
    return { hits, resetInMs, blockedForMs, granted: 0 };
  }

  async sortedSetAdd(key: string, members: SortedSetMember[]): Promise<void> {
    if (members.length === 0) return;
    const existing = this.zsetEntry(key);
    const set = existing?.members ?? new Map<string, number>();
    for (const { member, score } of members) {
      // Re-adding a member with its score changes nothing: the cached order stays valid.
      if (set.get(member) === score) continue;
      set.set(member, score);
      if (existing) existing.order = undefined;
    }
    if (!existing) this.write(key, { kind: 'zset', members: set });
  }

  async sortedSetRangeByScore(
    key: string,
    min: number,
    max: number,
    limit?: number,
    options: RangeOptions & { offset?: number } = {},
  ): Promise<SortedSetMember[]> {
    const inRange = this.ordered(key, options.reverse).filter(({ score }) => score >= min && score <= max);
    const from = Math.max(0, options.offset ?? 0);
    const page = limit === undefined || limit < 0 ? inRange.slice(from) : inRange.slice(from, from + limit);
    return page.map((m) => ({ ...m }));
  }

  async sortedSetRange(
    key: string,
    start: number,
    stop: number,
    options: RangeOptions = {},
  ): Promise<SortedSetMember[]> {
    const all = this.ordered(key, options.reverse);
    // Redis semantics: negative positions count from the end; stop is inclusive.
    const from = Math.max(0, start < 0 ? all.length + start : start);
    const to = stop < 0 ? all.length + stop : Math.min(stop, all.length - 1);
    return from > to ? [] : all.slice(from, to + 1).map((m) => ({ ...m }));
  }

  async sortedSetCount(key: string, min = -Infinity, max = Infinity): Promise<number> {
    const set = this.zset(key);
    if (!set) return 0;
    if (min === -Infinity && max === Infinity) return set.size;
    let n = 0;
    for (const score of set.values()) if (score >= min && score <= max) n++;
    return n;
  }

  async sortedSetFind(key: string, text: string): Promise<SortedSetMember[]> {
    return [...(this.zset(key) ?? [])]
      .filter(([member]) => member.includes(text))
      .map(([member, score]) => ({ member, score }));
  }

  async sortedSetScores(key: string, members: string[]): Promise<(number | null)[]> {
    const set = this.zset(key);
    return members.map((member) => set?.get(member) ?? null);
  }

  async sortedSetRemove(key: string, ...members: string[]): Promise<number> {
    const entry = this.zsetEntry(key);
    if (!entry) return 0;
    const set = entry.members;
    const removed = members.filter((member) => set.delete(member)).length;
    if (removed > 0) entry.order = undefined;
    if (set.size === 0) this.entries.delete(key);
    return removed;
  }

  async sortedSetScore(key: string, member: string): Promise<number | null> {
    return this.zset(key)?.get(member) ?? null;
  }

  async acquireLease(name: string, ttlMs: number): Promise<Lease | null> {
    const now = Date.now();
    const held = this.leases.get(name);
    if (held && held.expiresAt > now) return null;
    const fencingToken = (this.fences.get(name) ?? 0) + 1;
    this.fences.set(name, fencingToken);
    const lease: Lease = { name, owner: randomUUID(), fencingToken, expiresAt: now + ttlMs };
    this.leases.set(name, { owner: lease.owner, expiresAt: lease.expiresAt });
    return lease;
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const held = this.heldBy(this.leases, lease.name, lease.owner);
    if (!held) return false;
    held.expiresAt = Date.now() + ttlMs;
    lease.expiresAt = held.expiresAt;
    return true;
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    if (!this.heldBy(this.leases, lease.name, lease.owner)) return false;
    this.leases.delete(lease.name);
    return true;
  }

  withMutex<T>(key: string, fn: () => Promise<T>, opts?: MutexOptions): Promise<T> {
    return runWithMutex(this, key, fn, opts);
  }

  async tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const held = this.locks.get(key);
    if (held && held.expiresAt > Date.now()) return false;
    this.locks.set(key, { owner: token, expiresAt: Date.now() + ttlMs });
    return true;
  }

  async unlock(key: string, token: string): Promise<void> {
    if (this.heldBy(this.locks, key, token)) this.locks.delete(key);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.entries.clear();
    this.leases.clear();
    this.locks.clear();
  }

  private heldBy(map: Map<string, Held>, name: string, owner: string): Held | undefined {
    const held = map.get(name);
    return held && held.owner === owner && held.expiresAt > Date.now() ? held : undefined;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private jsonOf(entry: Entry, key: string): string {
    if (entry.kind !== 'value') throw wrongType(key);
    return entry.json;
  }

  private zset(key: string): Map<string, number> | undefined {
    return this.zsetEntry(key)?.members;
  }

  private zsetEntry(key: string): Extract<Entry, { kind: 'zset' }> | undefined {
    const entry = this.live(key);
    if (!entry) return undefined;
    if (entry.kind !== 'zset') throw wrongType(key);
    return entry;
  }

  /** Every member in Redis order: by score, equal scores by member byte-wise; all reversed with reverse. */
  private ordered(key: string, reverse = false): SortedSetMember[] {
    const entry = this.zsetEntry(key);
    if (!entry) return [];
    // Kept until the next change, so reading pages of a large, rarely changing set stays cheap.
    if (!entry.order) {
      const ascending = [...entry.members]
        .sort(([a, sa], [b, sb]) => sa - sb || (a < b ? -1 : a > b ? 1 : 0))
        .map(([member, score]) => ({ member, score }));
      entry.order = { ascending, descending: [...ascending].reverse() };
    }
    return reverse ? entry.order.descending : entry.order.ascending;
  }

  private write(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    if (++this.writesSinceSweep >= SWEEP_EVERY_WRITES) {
      this.writesSinceSweep = 0;
      for (const existing of [...this.entries.keys()]) this.live(existing);
    }
  }
}

function expiryOf(ttlMs: number | undefined): number | undefined {
  return ttlMs !== undefined && ttlMs > 0 ? Date.now() + ttlMs : undefined;
}

function wrongType(key: string): AppError {
  return new AppError(ErrorCode.INTERNAL_ERROR, `Key ${key} holds a different kind of value`);
}
