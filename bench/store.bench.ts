/**
 * StateStore benchmark: what one batched round trip buys over per-key calls, per adapter.
 * Runs against a throwaway redis-server on loopback (and the Upstash REST bridge in front of it).
 * Usage: npx ts-node --transpile-only bench/store.bench.ts [keys=1000] [rounds=5]
 */
import { MemoryStateStore } from '../src/infra/store/memory-state-store';
import { RedisStateStore } from '../src/infra/store/redis-state-store';
import { StateStore } from '../src/infra/store/state-store';
import { UpstashStateStore } from '../src/infra/store/upstash-state-store';
import { startRedisServer } from '../test/support/redis-server';
import { startUpstashBridge } from '../test/support/upstash-bridge';

const KEYS = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 5);

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function measure(name: string, store: StateStore): Promise<string> {
  const keys = Array.from({ length: KEYS }, (_, i) => `bench:inst:${i}`);
  const value = {
    id: 'x',
    name: 'bench',
    status: 'running',
    novitaStatus: 'running',
    gpuNum: 1,
    updatedAt: Date.now(),
  };
  const setBatch: number[] = [];
  const getBatch: number[] = [];
  const getOneByOne: number[] = [];
  const lease: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    setBatch.push(await time(() => store.setMany(keys.map((key) => ({ key, value, ttlMs: 60_000 })))));
    getBatch.push(await time(() => store.getMany(keys)));
    getOneByOne.push(
      await time(async () => {
        for (const k of keys.slice(0, 100)) await store.get(k);
      }),
    );
    lease.push(
      await time(async () => {
        const l = await store.acquireLease(`bench-${r}`, 5000);
        if (l) await store.releaseLease(l);
      }),
    );
  }
  await store.delete(...keys);
  const perKey = median(getOneByOne) / 100;
  return `| ${name} | ${median(setBatch).toFixed(1)} | ${median(getBatch).toFixed(1)} | ${(perKey * KEYS).toFixed(1)} | ${median(lease).toFixed(2)} |`;
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const bridge = await startUpstashBridge({ redisUrl: redis.url });
  const timeouts = { connectTimeoutMs: 2000, commandTimeoutMs: 5000 };
  const stores: [string, StateStore][] = [
    ['memory', new MemoryStateStore()],
    ['redis (ioredis, TCP)', new RedisStateStore({ redisUrl: redis.url, keyPrefix: 'bench', ...timeouts })],
    [
      'upstash (REST bridge)',
      new UpstashStateStore({
        upstashUrl: bridge.url,
        upstashToken: bridge.token,
        keyPrefix: 'bench',
        ...timeouts,
      }),
    ],
  ];
  const rows: string[] = [];
  for (const [name, store] of stores) {
    rows.push(await measure(name, store));
    await store.close();
  }
  await bridge.close();
  await redis.stop();
  console.log(`StateStore, ${KEYS} keys, median of ${ROUNDS} rounds (ms)\n`);
  console.log(
    '| adapter | setMany (1 round trip) | getMany (1 round trip) | get one by one (extrapolated) | lease acquire+release |',
  );
  console.log('|---|---|---|---|---|');
  console.log(rows.join('\n'));
}

void main();
