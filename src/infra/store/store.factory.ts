import { Logger } from '@nestjs/common';
import { StoreConfig } from '../../config/config.types';
import { MemoryStateStore } from './memory-state-store';
import { RedisStateStore } from './redis-state-store';
import { StateStore } from './state-store';
import { UpstashStateStore } from './upstash-state-store';

const logger = new Logger('StateStore');

/** Builds the adapter StoreConfig.kind names. Usable without Nest (tests, scripts). */
export function createStateStore(cfg: StoreConfig): StateStore {
  switch (cfg.kind) {
    case 'upstash':
      if (!cfg.upstashUrl || !cfg.upstashToken)
        throw new Error('Upstash store needs upstashUrl and upstashToken');
      logger.log(`Using Upstash state store (key prefix "${cfg.keyPrefix}")`);
      return new UpstashStateStore({ ...cfg, upstashUrl: cfg.upstashUrl, upstashToken: cfg.upstashToken });
    case 'redis':
      if (!cfg.redisUrl) throw new Error('Redis store needs redisUrl');
      logger.log(`Using Redis state store (key prefix "${cfg.keyPrefix}")`);
      return new RedisStateStore({ ...cfg, redisUrl: cfg.redisUrl });
    case 'memory':
      logger.warn(
        'Using the in-memory state store: state is lost on restart and not shared between replicas. ' +
          'Set REDIS_URL or UPSTASH_REDIS_REST_URL + UPSTASH_REDIS_REST_TOKEN for durable state.',
      );
      return new MemoryStateStore();
  }
}
