import { Redis } from '@upstash/redis';
import { StoreConfig } from '../../config/config.types';
import { RawWriteOp, RedisArg, RedisProtocolStore } from './redis-protocol-store';
import { StoreKeys } from './store-keys';

export type UpstashStoreConfig = Pick<StoreConfig, 'keyPrefix' | 'commandTimeoutMs'> & {
  upstashUrl: string;
  upstashToken: string;
};

/**
 * The SDK's own retry policy, configured here once and never wrapped: it retries only network
 * failures, so a short schedule keeps a dead endpoint from stalling callers for seconds.
 */
const UPSTASH_RETRIES = 2;
const upstashBackoff = (retryCount: number): number => Math.min(50 * 2 ** retryCount, 400);

/** Builds the raw Upstash client. Exposed for the module's Symbol token and for tests. */
export function createUpstashClient(cfg: UpstashStoreConfig): Redis {
  return new Redis({
    url: cfg.upstashUrl,
    token: cfg.upstashToken,
    retry: { retries: UPSTASH_RETRIES, backoff: upstashBackoff },
    // We encode JSON ourselves, identically for every adapter; the SDK must hand back raw replies.
    automaticDeserialization: false,
    enableTelemetry: false,
    // A function gives every request its own deadline; an aborted request rejects instead of retrying.
    signal: () => AbortSignal.timeout(cfg.commandTimeoutMs),
  });
}

/** Upstash over its REST API; every call is one HTTPS request, a batch is one pipeline request. */
export class UpstashStateStore extends RedisProtocolStore {
  readonly kind = 'upstash' as const;

  constructor(
    cfg: UpstashStoreConfig,
    private readonly client: Redis = createUpstashClient(cfg),
  ) {
    super(new StoreKeys(cfg.keyPrefix));
  }

  protected command<T>(args: [string, ...RedisArg[]]): Promise<T> {
    return this.client.exec<T>(args);
  }

  protected async sendBatch(ops: RawWriteOp[]): Promise<void> {
    const pipeline = this.client.pipeline();
    for (const op of ops) {
      if (op.op === 'set') {
        if (op.ttlMs === undefined) pipeline.set(op.key, op.json);
        else pipeline.set(op.key, op.json, { px: op.ttlMs });
      } else if (op.op === 'delete') pipeline.del(op.key);
      else if (op.op === 'sortedSetAdd') {
        const [first, ...rest] = op.members;
        pipeline.zadd(op.key, first, ...rest);
      } else if (op.op === 'sortedSetRemove') pipeline.zrem(op.key, ...op.members);
      else pipeline.eval(op.script, op.keys, op.args);
    }
    await pipeline.exec();
  }

  /** HTTP is stateless: nothing to close. */
  async close(): Promise<void> {}
}
