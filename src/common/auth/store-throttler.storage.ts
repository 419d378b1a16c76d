import { Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { StateStore } from '../../infra/store/state-store';

/**
 * Rate-limit counters in the StateStore: one atomic hit per request (one round trip), so every
 * replica on one store shares exactly one budget per client. Fixed window, opened by the first hit.
 */
@Injectable()
export class StoreThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly store: StateStore) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const hit = await this.store.hitRateLimit(`ratelimit:${throttlerName}:${key}`, ttl, limit, blockDuration);
    const isBlocked = hit.blockedForMs > 0;
    return {
      totalHits: hit.hits,
      timeToExpire: seconds(hit.resetInMs),
      isBlocked,
      timeToBlockExpire: isBlocked ? seconds(hit.blockedForMs) : 0,
    };
  }
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
