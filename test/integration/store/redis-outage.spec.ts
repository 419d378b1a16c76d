import { AppError, ErrorCode } from '../../../src/common/errors';
import { RedisStateStore } from '../../../src/infra/store/redis-state-store';
import { StateStore } from '../../../src/infra/store/state-store';
import { UpstashStateStore } from '../../../src/infra/store/upstash-state-store';
import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { startUpstashBridge, UpstashBridgeHandle } from '../../support/upstash-bridge';

/**
 * The store goes away and comes back on the same port: the adapter must fail fast with
 * STORE_UNAVAILABLE meanwhile and recover without being recreated.
 */
let server: RedisServerHandle;
let bridge: UpstashBridgeHandle;

beforeAll(async () => {
  server = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: server.url });
});

afterAll(async () => {
  await bridge?.close();
  await server?.stop();
});

const adapters: [string, () => StateStore][] = [
  [
    'redis',
    () =>
      new RedisStateStore({
        redisUrl: server.url,
        keyPrefix: 'outage',
        connectTimeoutMs: 1000,
        commandTimeoutMs: 1000,
      }),
  ],
  [
    'upstash',
    () =>
      new UpstashStateStore({
        upstashUrl: bridge.url,
        upstashToken: bridge.token,
        keyPrefix: 'outage',
        commandTimeoutMs: 1000,
      }),
  ],
];

describe.each(adapters)('%s adapter during a redis-server outage', (_kind, open) => {
  let store: StateStore | undefined;

  afterEach(async () => {
    if (!server.running) await server.restart();
    await store?.close();
    store = undefined;
  });

  it('should start while the server is down, report it unavailable, and connect once it is up', async () => {
    await server.stop();
    const startedAt = Date.now();
    store = open();
    await expect(store.ping()).rejects.toMatchObject({ code: ErrorCode.STORE_UNAVAILABLE });
    expect(Date.now() - startedAt).toBeLessThan(2000);

    await server.restart();
    await waitUntil(() => store!.ping(), 5000);
    expect(await store.set('late-start', 1)).toBe(true);
  });

  it('should fail fast with STORE_UNAVAILABLE while down and recover by itself', async () => {
    const live = (store = open());
    await live.ping();
    await live.set('before', 'outage');

    await server.stop();
    const startedAt = Date.now();
    const failure = await live.ping().then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe(ErrorCode.STORE_UNAVAILABLE);
    expect((failure as AppError).httpStatus).toBe(503);
    expect(Date.now() - startedAt).toBeLessThan(2000);
    await expect(live.get('before')).rejects.toMatchObject({ code: ErrorCode.STORE_UNAVAILABLE });
    await expect(live.acquireLease('leader', 1000)).rejects.toMatchObject({
      code: ErrorCode.STORE_UNAVAILABLE,
    });
    await expect(live.withMutex('k', async () => 'never', { waitMs: 100 })).rejects.toMatchObject({
      code: ErrorCode.STORE_UNAVAILABLE,
    });

    await server.restart();
    const downFor = Date.now();
    await waitUntil(() => live.ping(), 5000);
    expect(Date.now() - downFor).toBeLessThan(3000);
    // Persistence is off, so the restarted server is empty; the adapter works against it as is.
    expect(await live.get('before')).toBeNull();
    await live.set('after', 'outage');
    expect(await live.get('after')).toBe('outage');
  });
});

async function waitUntil(probe: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await probe();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
