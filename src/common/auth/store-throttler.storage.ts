import { Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { RateLimitHit, StateStore } from '../../infra/store/state-store';

/** Share of the limit one replica reserves per store round trip: small limits stay exact (chunk 1). */
export const RESERVATION_DIVISOR = 20;

export function reservationSize(limit: number): number {
  return Math.max(1, Math.floor(limit / RESERVATION_DIVISOR));
}

/** What this replica knows about one client's budget in the current window. */
interface Budget {
  /** Shared count when this replica last reserved, minus its unspent hits: the hits used as far as it knows. */
  used: number;
  /** Hits reserved in the store and not yet spent here. */
  unspent: number;
  /** Local clock; never later than the store's window end, so no hit is spent outside the window that counted it. */
  windowEndsAt: number;
  /** Local clock; 0 when not blocked. Never later than the store's block end. */
  blockedUntil: number;
}

/** Budgets kept before stale ones are swept; grows with the number of live clients. */
const SWEEP_FLOOR = 1024;

/**
 * Rate-limit counters in the StateStore, one fixed window per client and endpoint, opened by the
 * first hit. Each replica reserves hits from the shared counter in chunks (reservationSize: one
 * atomic store call per chunk) and spends them locally, so most requests make no round trip. The
 * shared counter never passes the limit, so all replicas together never allow more than the limit
 * per window; hits a replica reserved but did not spend before the window ended are lost, which
 * only makes the limit stricter (see docs/configuration.md for the tolerance).
 */
@Injectable()
export class StoreThrottlerStorage implements ThrottlerStorage {
  private readonly budgets = new Map<string, Budget>();
  /** One reservation in flight per key: concurrent requests wait for it instead of reserving too. */
  private readonly reserving = new Map<string, Promise<ThrottlerStorageRecord>>();
  private sweepAt = SWEEP_FLOOR;

  constructor(private readonly store: StateStore) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const id = storageId(throttlerName, key);
    for (;;) {
      const local = this.spend(id, limit);
      if (local) return local;
      const inFlight = this.reserving.get(id);
      if (!inFlight) return this.reserve(id, ttl, limit, blockDuration);
      await inFlight;
    }
  }

  /**
   * increment's answer when this replica's budget has it: one reserved hit spent, or the refusal
   * while blocked. Undefined (nothing spent) when the answer needs the store.
   */
  spendReserved(key: string, limit: number, throttlerName: string): ThrottlerStorageRecord | undefined {
    return this.spend(storageId(throttlerName, key), limit);
  }

  /** Answers from the local budget when it can: a refusal while blocked, or one reserved hit. */
  private spend(id: string, limit: number): ThrottlerStorageRecord | undefined {
    const budget = this.budgets.get(id);
    if (!budget) return undefined;
    const now = Date.now();
    if (budget.blockedUntil > now) {
      const left = budget.blockedUntil - now;
      return {
        totalHits: limit + 1,
        timeToExpire: seconds(left),
        isBlocked: true,
        timeToBlockExpire: seconds(left),
      };
    }
    if (budget.windowEndsAt <= now) {
      this.budgets.delete(id);
      return undefined;
    }
    if (budget.unspent === 0) return undefined;
    budget.unspent--;
    budget.used++;
    return {
      totalHits: budget.used,
      timeToExpire: seconds(budget.windowEndsAt - now),
      isBlocked: false,
      timeToBlockExpire: 0,
    };
  }

  /** One store call; the calling request spends the first reserved hit, whatever the local clock says. */
  private reserve(
    id: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<ThrottlerStorageRecord> {
    const started = Date.now();
    const result = this.store
      .hitRateLimit(id, ttl, limit, blockDuration, reservationSize(limit))
      .then((hit) => this.record(id, hit, started))
      .finally(() => this.reserving.delete(id));
    this.reserving.set(id, result);
    return result;
  }

  private record(id: string, hit: RateLimitHit, started: number): ThrottlerStorageRecord {
    this.sweep(started);
    const isBlocked = hit.blockedForMs > 0;
    // Measured from before the call: the store's clock started later, so local ends come no later than its.
    this.budgets.set(id, {
      used: isBlocked ? hit.hits : hit.hits - hit.granted + 1,
      unspent: isBlocked ? 0 : hit.granted - 1,
      windowEndsAt: started + hit.resetInMs,
      blockedUntil: isBlocked ? started + hit.blockedForMs : 0,
    });
    return {
      totalHits: isBlocked ? hit.hits : hit.hits - hit.granted + 1,
      timeToExpire: seconds(hit.resetInMs),
      isBlocked,
      timeToBlockExpire: isBlocked ? seconds(hit.blockedForMs) : 0,
    };
  }

  /** Drops budgets whose window and block have ended, once the map has doubled since the last sweep. */
  private sweep(now: number): void {
    if (this.budgets.size < this.sweepAt) return;
    for (const [id, budget] of this.budgets) {
      if (budget.windowEndsAt <= now && budget.blockedUntil <= now) this.budgets.delete(id);
    }
    this.sweepAt = Math.max(SWEEP_FLOOR, this.budgets.size * 2);
  }
}

const storageId = (throttlerName: string, key: string) => `ratelimit:${throttlerName}:${key}`;

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
