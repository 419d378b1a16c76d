import { Logger } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { StoreConfig } from '../../config/config.types';
import { RawWriteOp, RedisArg, RedisProtocolStore } from './redis-protocol-store';
import { RedisReadCache } from './redis-read-cache';
import { storeCall } from './store-errors';
import { decodeValue, formatScoreBound, StoreKeys } from './store-keys';

export type RedisStoreConfig = Pick<StoreConfig, 'keyPrefix' | 'connectTimeoutMs' | 'commandTimeoutMs'> & {
  redisUrl: string;
};

/** Reconnect quickly after an outage, but never hammer a dead server more than once a second. */
const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * Redis over TCP (ioredis). Built to fail fast while Redis is down (no offline queue, bounded
 * retries, command timeout) and to recover by itself: ioredis keeps reconnecting in the background.
 */
export class RedisStateStore extends RedisProtocolStore {
  readonly kind = 'redis' as const;

  private readonly logger = new Logger(RedisStateStore.name);
  private readonly client: Redis;
  private readonly reads: RedisReadCache;
  private readonly connectTimeoutMs: number;
  private reachable = true;
  private pendingConnect?: Promise<void>;

  constructor(cfg: RedisStoreConfig) {
    super(new StoreKeys(cfg.keyPrefix));
    this.connectTimeoutMs = cfg.connectTimeoutMs;
    const options: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A write in flight when the connection drops may already have run; do not run it twice.
      autoResendUnfulfilledCommands: false,
      connectTimeout: cfg.connectTimeoutMs,
      commandTimeout: cfg.commandTimeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    };
    this.client = new Redis(cfg.redisUrl, options);
    this.reads = new RedisReadCache(
      cfg.redisUrl,
      options,
      (raw) => decodeValue(raw),
      (keys) => this.command(['MGET', ...keys]),
    );
    // Log transitions only: a down server emits an error on every reconnect attempt.
    this.client.on('error', (err: Error) => {
      if (!this.reachable) return;
      this.reachable = false;
      this.logger.warn({ err: err.message }, 'Redis unreachable; retrying in the background');
    });
    this.client.on('ready', () => {
      if (this.reachable) return;
      this.reachable = true;
      this.logger.log('Redis connection restored');
    });
    // Start connecting now; the first commands wait for it (see whenConnecting).
    this.client.connect().catch(() => undefined);
  }

  override getCached<T>(key: string): Promise<T | null> {
    return storeCall('get', async () => (await this.reads.readMany([this.keys.data(key)]))[0] as T | null);
  }

  override peekCached<T>(key: string): T | null | undefined {
    return this.reads.peek(this.keys.data(key)) as T | null | undefined;
  }

  override getManyCached<T>(keys: string[]): Promise<(T | null)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return storeCall(
      'getMany',
      async () => (await this.reads.readMany(keys.map((k) => this.keys.data(k)))) as (T | null)[],
    );
  }

  /** The copies getCached serves, as /api/cache/* and /metrics show and clear them. */
  readCache(): Pick<RedisReadCache, 'clear' | 'sizeBytes' | 'stats'> {
    return this.reads;
  }

  protected override keysWritten(keys: readonly string[]): void {
    this.reads.written(keys);
  }

  protected async command<T>(args: [string, ...RedisArg[]]): Promise<T> {
    await this.whenConnecting();
    const [name, ...rest] = args;
    return (await this.client.call(name, ...rest)) as T;
  }

  protected async sendBatch(ops: RawWriteOp[]): Promise<void> {
    await this.whenConnecting();
    const pipeline = this.client.pipeline();
    for (const op of ops) {
      if (op.op === 'set') {
        if (op.ttlMs === undefined) pipeline.set(op.key, op.json);
        else pipeline.set(op.key, op.json, 'PX', op.ttlMs);
      } else if (op.op === 'delete') pipeline.del(op.key);
      else if (op.op === 'sortedSetAdd')
        pipeline.zadd(
          op.key,
          ...op.members.flatMap(({ member, score }) => [formatScoreBound(score), member]),
        );
      else if (op.op === 'sortedSetRemove') pipeline.zrem(op.key, ...op.members);
      else pipeline.eval(op.script, op.keys.length, ...op.keys, ...op.args);
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async close(): Promise<void> {
    await this.reads.close();
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }

  /**
   * With no offline queue, a command sent while a connection attempt is still in progress would be
   * rejected at once; wait for that attempt instead. A known-down server (reconnecting) fails fast.
   */
  private whenConnecting(): Promise<void> {
    const status = this.client.status;
    if (status !== 'connecting' && status !== 'connect' && status !== 'wait') return Promise.resolve();
    // One waiter per connection attempt, however many commands queue behind it.
    this.pendingConnect ??= new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.client.off('ready', done);
        this.client.off('close', done);
        this.pendingConnect = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.connectTimeoutMs);
      this.client.once('ready', done);
      this.client.once('close', done);
    });
    return this.pendingConnect;
  }
}
