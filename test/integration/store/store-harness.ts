import Redis from 'ioredis';
import { MemoryStateStore } from '../../../src/infra/store/memory-state-store';
import { RedisStateStore } from '../../../src/infra/store/redis-state-store';
import { StateStore } from '../../../src/infra/store/state-store';
import { UpstashStateStore } from '../../../src/infra/store/upstash-state-store';
import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { startUpstashBridge, UpstashBridgeHandle } from '../../support/upstash-bridge';

export type AdapterKind = 'memory' | 'redis' | 'upstash';
export const ADAPTER_KINDS: AdapterKind[] = ['memory', 'redis', 'upstash'];

/**
 * Backends for the contract suite: one redis-server (and an Upstash bridge in front of it) per
 * test file. open() hands out a fresh adapter instance, as another replica would have; instances
 * opened with the same prefix see the same data (for memory: the same in-process store).
 */
export class StoreHarness {
  private redisServer?: RedisServerHandle;
  private bridge?: UpstashBridgeHandle;
  private admin?: Redis;
  private readonly opened: StateStore[] = [];
  private readonly memoryByPrefix = new Map<string, MemoryStateStore>();
  private prefixCounter = 0;

  async start(): Promise<void> {
    this.redisServer = await startRedisServer();
    this.bridge = await startUpstashBridge({ redisUrl: this.redisServer.url });
    this.admin = new Redis(this.redisServer.url, { lazyConnect: true });
    await this.admin.connect();
  }

  async stop(): Promise<void> {
    await Promise.all(this.opened.map((store) => store.close()));
    this.admin?.disconnect();
    await this.bridge?.close();
    await this.redisServer?.stop();
  }

  /** A key prefix no other test uses, so tests never see each other's keys. */
  uniquePrefix(): string {
    return `t${++this.prefixCounter}-${Math.random().toString(36).slice(2, 8)}`;
  }

  open(kind: AdapterKind, keyPrefix: string): StateStore {
    const timeouts = { connectTimeoutMs: 2000, commandTimeoutMs: 2000 };
    let store: StateStore;
    if (kind === 'memory') {
      const existing = this.memoryByPrefix.get(keyPrefix);
      if (existing) return existing;
      store = new MemoryStateStore();
      this.memoryByPrefix.set(keyPrefix, store as MemoryStateStore);
    } else if (kind === 'redis') {
      store = new RedisStateStore({ redisUrl: this.server().url, keyPrefix, ...timeouts });
    } else {
      const bridge = this.requireBridge();
      store = new UpstashStateStore({
        upstashUrl: bridge.url,
        upstashToken: bridge.token,
        keyPrefix,
        ...timeouts,
      });
    }
    this.opened.push(store);
    return store;
  }

  /** HTTP requests the Upstash bridge has answered so far. */
  bridgeRequests(): number {
    return this.requireBridge().requestCount;
  }

  /** How often redis-server has run each command (lower-case name), from INFO commandstats. */
  async commandCalls(): Promise<Record<string, number>> {
    const info = await this.admin!.info('commandstats');
    const calls: Record<string, number> = {};
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
    return calls;
  }

  /** Physical keys on the redis-server, for checking the prefix layout. */
  rawKeys(pattern: string): Promise<string[]> {
    return this.admin!.keys(pattern);
  }

  private server(): RedisServerHandle {
    if (!this.redisServer) throw new Error('harness not started');
    return this.redisServer;
  }

  private requireBridge(): UpstashBridgeHandle {
    if (!this.bridge) throw new Error('harness not started');
    return this.bridge;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
