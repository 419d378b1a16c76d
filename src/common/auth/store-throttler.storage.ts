import { Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { StateStore } from '../../infra/store/state-store';

/**
 * Rate-limit counters in the StateStore, so every replica on one store shares one budget per client.
 * Fixed window: the first hit creates the counter with the window as its TTL.
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
    const counterKey = `ratelimit:${throttlerName}:${key}`;
    const blockKey = `${counterKey}:blocked`;
    const blockedTtl = await this.store.ttl(blockKey);
    if (blockedTtl > 0) {
      return {
        totalHits: limit + 1,
        timeToExpire: seconds(blockedTtl),
        isBlocked: true,
        timeToBlockExpire: seconds(blockedTtl),
      };
    }
    const totalHits = await this.store.increment(counterKey, 1, ttl);
    let remaining = await this.store.ttl(counterKey);
    if (remaining < 0) remaining = ttl;
    if (totalHits > limit) {
      const block = blockDuration > 0 ? blockDuration : remaining;
      await this.store.set(blockKey, 1, { ttlMs: block });
      return {
        totalHits,
        timeToExpire: seconds(remaining),
        isBlocked: true,
        timeToBlockExpire: seconds(block),
      };
    }
    return { totalHits, timeToExpire: seconds(remaining), isBlocked: false, timeToBlockExpire: 0 };
  }
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
