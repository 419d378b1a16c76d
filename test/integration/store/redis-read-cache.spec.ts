import Redis from 'ioredis';
import { CacheRegistry } from '../../../src/infra/metrics/cache-registry';
import { RedisStateStore } from '../../../src/infra/store/redis-state-store';
import { registerReadCache, STORE_READS_CACHE } from '../../../src/infra/store/store.module';
import { StateStore } from '../../../src/infra/store/state-store';
import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { ADAPTER_KINDS, sleep, StoreHarness } from './store-harness';

/**
 * getCached: a read that may be answered by this process's copy. On Redis the copy is kept current
 * by client-side caching (CLIENT TRACKING with invalidations redirected to a listener connection).
 * Two RedisStateStore instances on one server stand for two replicas.
 */
let server: RedisServerHandle;
let admin: Redis;
const opened: StateStore[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  admin.disconnect();
  await server.stop();
});

let prefixes = 0;
function replica(prefix: string, url = server.url): RedisStateStore {
  const store = new RedisStateStore({
    redisUrl: url,
    keyPrefix: prefix,
    connectTimeoutMs: 1000,
    commandTimeoutMs: 1000,
  });
  opened.push(store);
  return store;
}

/** Reads that reached Redis: GET and MGET commands it has run. */
async function gets(): Promise<number> {
  const info = await admin.info('commandstats');
  const calls = (name: string) =>
    Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return calls('get') + calls('mget');
}

/** Resolves once the store's tracked reads are in use (both of its extra connections set up). */
async function cacheLive(store: RedisStateStore): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!store.readCache().stats().live) {
    if (Date.now() > deadline) throw new Error('read cache never went live');
    await sleep(10);
  }
}

async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 2000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (JSON.stringify(value) === JSON.stringify(expected)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`still ${JSON.stringify(value)}`);
    await sleep(1);
  }
}

describe('RedisStateStore.getCached (client-side caching)', () => {
  let prefix: string;
  let a: RedisStateStore;
  let b: RedisStateStore;

  beforeEach(async () => {
    prefix = `rc${++prefixes}`;
    a = replica(prefix);
    b = replica(prefix);
    await Promise.all([cacheLive(a), cacheLive(b)]);
  });

  it('answers repeated reads of a key from the process, without a GET reaching Redis', async () => {
    await a.set('instance:i-1', { id: 'i-1', status: 'running' });
    expect(await a.getCached('instance:i-1')).toEqual({ id: 'i-1', status: 'running' });
    const before = await gets();
    for (let i = 0; i < 50; i++)
      expect(await a.getCached('instance:i-1')).toEqual({ id: 'i-1', status: 'running' });
    expect(await gets()).toBe(before);
    expect(a.readCache().stats().hits).toBeGreaterThanOrEqual(50);
  });

  it('shares frozen values: a caller changing what it read gets a TypeError, the next read is unchanged', async () => {
    await a.set('instance:i-2', { tags: ['x'], nested: { n: 1 } });
    const first = await a.getCached<{ tags: string[]; nested: { n: number } }>('instance:i-2');
    expect(() => first!.tags.push('mutated')).toThrow(TypeError);
    expect(() => (first!.nested.n = 2)).toThrow(TypeError);
    expect(await a.getCached('instance:i-2')).toEqual({ tags: ['x'], nested: { n: 1 } });
  });

  it('getManyCached answers in key order, from the copies held and one MGET for the rest', async () => {
    await a.writeBatch(
      [1, 2, 3, 4].map((n) => ({ op: 'set' as const, key: `instance:m${n}`, value: { n } })),
    );
    expect(await a.getCached('instance:m2')).toEqual({ n: 2 });
    const before = await gets();
    const keys = ['instance:m1', 'instance:m2', 'instance:none', 'instance:m4', 'instance:m3'];
    expect(await a.getManyCached(keys)).toEqual([{ n: 1 }, { n: 2 }, null, { n: 4 }, { n: 3 }]);
    expect((await gets()) - before).toBe(1);
    // Now all held: no round trip; and another replica's change still shows.
    expect(await a.getManyCached(keys)).toEqual([{ n: 1 }, { n: 2 }, null, { n: 4 }, { n: 3 }]);
    expect((await gets()) - before).toBe(1);
    await b.set('instance:m4', { n: 40 });
    await eventually(async () => (await a.getManyCached<{ n: number }>(keys))[3], { n: 40 });
  });

  it("sees another replica's set, delete and batch once Redis' invalidation arrives", async () => {
    await a.set('instance:i-3', { v: 1 });
    expect(await a.getCached('instance:i-3')).toEqual({ v: 1 });

    await b.set('instance:i-3', { v: 2 });
    expect(await eventually(() => a.getCached('instance:i-3'), { v: 2 })).toBeLessThan(500);

    await b.writeBatch([{ op: 'set', key: 'instance:i-3', value: { v: 3 } }]);
    expect(await eventually(() => a.getCached('instance:i-3'), { v: 3 })).toBeLessThan(500);

    await b.delete('instance:i-3');
    expect(await eventually(() => a.getCached('instance:i-3'), null)).toBeLessThan(500);
  });

  it('peekCached answers from the copy held, with no round trip, and is undefined until one is held or after an invalidation', async () => {
    await a.set('instance:p-1', { v: 1 });
    expect(a.peekCached('instance:p-1')).toBeUndefined(); // its own write dropped the copy
    expect(await a.getCached('instance:p-1')).toEqual({ v: 1 });
    const before = await gets();
    expect(a.peekCached('instance:p-1')).toEqual({ v: 1 });
    expect(a.peekCached('instance:p-1')).toBe(await a.getCached('instance:p-1')); // the same frozen copy
    expect(await gets()).toBe(before);
    expect(a.peekCached('instance:missing')).toBeUndefined();
    await a.getCached('instance:missing');
    expect(a.peekCached('instance:missing')).toBeNull(); // absence is held too

    await b.set('instance:p-1', { v: 2 });
    await eventually(async () => a.peekCached('instance:p-1') ?? 'dropped', 'dropped');
  });

  it('sees a key that was missing once another client creates it (absence is cached too)', async () => {
    expect(await a.getCached('novita:n-1')).toBeNull();
    const before = await gets();
    expect(await a.getCached('novita:n-1')).toBeNull();
    expect(await gets()).toBe(before);
    await admin.set(`${prefix}:novita:n-1`, JSON.stringify('i-9'));
    await eventually(() => a.getCached('novita:n-1'), 'i-9');
  });

  it('never answers an older value after its own write has returned', async () => {
    for (let i = 0; i < 300; i++) {
      const read = a.getCached('instance:own'); // in flight while the write goes out
      await a.set('instance:own', { i });
      await read;
      expect(await a.getCached('instance:own')).toEqual({ i });
      await a.writeBatch([{ op: 'set', key: 'instance:own', value: { i, batch: true } }]);
      expect(await a.getCached('instance:own')).toEqual({ i, batch: true });
    }
  });

  it('ends on the last value written by another replica while reads race the writes', async () => {
    let reading = true;
    const reader = (async () => {
      let reads = 0;
      while (reading) {
        await a.getCached('instance:race');
        reads++;
        // A hit resolves without I/O: yield, or this loop would starve the writer's sockets.
        await new Promise((resolve) => setImmediate(resolve));
      }
      return reads;
    })();
    try {
      for (let i = 0; i <= 500; i++) await b.set('instance:race', { i });
      await eventually(() => a.getCached('instance:race'), { i: 500 }, 1000);
      // And it stays there: nothing older was cached behind the invalidation.
      await sleep(50);
      expect(await a.getCached('instance:race')).toEqual({ i: 500 });
    } finally {
      reading = false;
    }
    expect(await reader).toBeGreaterThan(100);
  });

  it('keeps working after its invalidation connection alone is killed and comes back', async () => {
    await a.set('instance:k', { v: 1 });
    expect(await a.getCached('instance:k')).toEqual({ v: 1 });
    // The listeners are the connections subscribed to the invalidation channel (every store's here).
    expect(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBeGreaterThan(0);
    await eventually(async () => a.readCache().stats().live, false);
    await cacheLive(a);
    // Cached again through the new listener, and invalidated through it.
    expect(await a.getCached('instance:k')).toEqual({ v: 1 });
    expect(await a.getCached('instance:k')).toEqual({ v: 1 });
    await b.set('instance:k', { v: 2 });
    await eventually(() => a.getCached('instance:k'), { v: 2 });
  });

  it('drops everything on FLUSHDB', async () => {
    await a.set('instance:f', 1);
    expect(await a.getCached('instance:f')).toBe(1);
    await admin.flushdb();
    await eventually(() => a.getCached('instance:f'), null);
  });
});

describe('the store-reads cache in the cache registry', () => {
  it('reports its entries, hits and misses, and a clear sends the next read to Redis', async () => {
    const store = replica('registry');
    await cacheLive(store);
    const caches = new CacheRegistry();
    registerReadCache(store, caches);
    await store.set('instance:g', { g: 1 });
    for (let i = 0; i < 3; i++) await store.getCached('instance:g');
    const stats = (await caches.stats()).find((c) => c.name === STORE_READS_CACHE)!;
    expect(stats).toMatchObject({
      entries: 1,
      hits: 2,
      misses: 1,
      sizeBytes: JSON.stringify({ g: 1 }).length,
    });

    expect(await caches.clear([STORE_READS_CACHE])).toEqual([STORE_READS_CACHE]);
    expect((await caches.stats()).find((c) => c.name === STORE_READS_CACHE)!.entries).toBe(0);
    const before = await gets();
    expect(await store.getCached('instance:g')).toEqual({ g: 1 });
    expect(await gets()).toBe(before + 1);
  });
});

describe('RedisStateStore.getCached across a Redis restart', () => {
  it('forgets its copies when the connection drops, so a restarted (empty) server is read afresh', async () => {
    const store = replica('restart');
    await cacheLive(store);
    await store.set('instance:r', { before: true });
    expect(await store.getCached('instance:r')).toEqual({ before: true });

    await server.stop();
    try {
      // Once the drop is seen, reads fail like any other store call (nothing stale is served instead).
      await eventually(() => store.getCached('instance:r').catch(() => 'unavailable'), 'unavailable');
    } finally {
      await server.restart();
      admin.disconnect();
      admin = new Redis(server.url);
    }
    // Persistence is off: the record is gone, and the cache must not pretend otherwise.
    await eventually(() => store.getCached('instance:r').catch(() => 'unavailable'), null, 5000);
    await cacheLive(store);
    await admin.set('restart:instance:r', JSON.stringify({ after: true }));
    await eventually(() => store.getCached('instance:r'), { after: true });
  });
});

describe('RedisStateStore.getCached when Redis refuses tracking', () => {
  it('reads from Redis every time and stays correct', async () => {
    await admin.call('ACL', 'SETUSER', 'notrack', 'on', '>pw', '~*', '+@all', '-client');
    const url = server.url.replace('redis://', 'redis://notrack:pw@');
    const store = replica('refused', url);
    const other = replica('refused');
    await store.set('instance:x', 1);
    await sleep(200); // time for the tracking set-up to be refused
    expect(store.readCache().stats().live).toBe(false);
    const before = await gets();
    expect(await store.getCached('instance:x')).toBe(1);
    await other.set('instance:x', 2);
    expect(await store.getCached('instance:x')).toBe(2);
    expect(await gets()).toBe(before + 2);
  });
});

/** The port's contract on every adapter: getCached answers what get would, once writes have landed. */
describe.each(ADAPTER_KINDS)('StateStore.getCached contract: %s adapter', (kind) => {
  const harness = new StoreHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.stop());

  it("returns the key's value, and another replica's change soon after", async () => {
    const prefix = harness.uniquePrefix();
    const one = harness.open(kind, prefix);
    const two = harness.open(kind, prefix);
    expect(await one.getCached('instance:c')).toBeNull();
    await two.set('instance:c', { n: 1 });
    await eventually(() => one.getCached('instance:c'), { n: 1 });
    await two.set('instance:c', { n: 2 });
    await eventually(() => one.getCached('instance:c'), { n: 2 });
    await one.set('instance:c', { n: 3 });
    expect(await one.getCached('instance:c')).toEqual({ n: 3 });
  });
});
