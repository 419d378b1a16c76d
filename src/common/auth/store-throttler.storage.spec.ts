import { Controller, Get } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { ThrottlerModule } from '@nestjs/throttler';
import { MemoryStateStore } from '../../infra/store/memory-state-store';
import { StateStore } from '../../infra/store/state-store';
import { AllExceptionsFilter } from '../http/all-exceptions.filter';
import { AppThrottlerGuard } from './app-throttler.guard';
import { reservationSize, StoreThrottlerStorage } from './store-throttler.storage';

@Controller()
class ProbeController {
  @Get('api/things')
  things() {
    return { ok: true };
  }

  @Get('api/others')
  others() {
    return { ok: true };
  }

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }
}

/** A memory store that records every call made to it: each call stands for one round trip. */
function countingStore(): { store: StateStore; calls: string[]; args: unknown[][] } {
  const calls: string[] = [];
  const args: unknown[][] = [];
  const target = new MemoryStateStore();
  const store = new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...callArgs: unknown[]) => {
        calls.push(String(prop));
        args.push(callArgs);
        return (value as (...a: unknown[]) => unknown).apply(obj, callArgs);
      };
    },
  });
  return { store, calls, args };
}

describe(StoreThrottlerStorage.name, () => {
  const LIMIT = 3;
  let app: NestFastifyApplication;
  let calls: string[];
  let args: unknown[][];

  beforeEach(async () => {
    const counting = countingStore();
    calls = counting.calls;
    args = counting.args;
    const moduleRef = await Test.createTestingModule({
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', limit: LIMIT, ttl: 60_000 }],
          storage: new StoreThrottlerStorage(counting.store),
        }),
      ],
      controllers: [ProbeController],
      providers: [
        { provide: APP_GUARD, useClass: AppThrottlerGuard },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterEach(() => app.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers });

  it('with a small limit, makes one store call per allowed request and for the first refusal only', async () => {
    for (let i = 0; i < LIMIT + 2; i++) await get('/api/things', { 'x-api-key': 'client-a' });
    expect(calls).toEqual(Array(LIMIT + 1).fill('hitRateLimit'));
  });

  it('sets the rate-limit headers while allowed, then answers 429 in the error envelope with Retry-After', async () => {
    for (let i = 1; i <= LIMIT; i++) {
      const res = await get('/api/things', { 'x-api-key': 'client-a' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe(String(LIMIT));
      expect(res.headers['x-ratelimit-remaining']).toBe(String(LIMIT - i));
      expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(58);
      expect(Number(res.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(60);
    }
    for (let i = 0; i < 2; i++) {
      const limited = await get('/api/things', { 'x-api-key': 'client-a' });
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(58);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(limited.json().error).toMatchObject({ code: 'RATE_LIMITED' });
    }
  });

  it('keeps one budget per client key and endpoint', async () => {
    for (let i = 0; i <= LIMIT; i++) await get('/api/things', { 'x-api-key': 'client-a' });
    expect((await get('/api/things', { 'x-api-key': 'client-a' })).statusCode).toBe(429);
    expect((await get('/api/things', { authorization: 'Bearer client-b' })).statusCode).toBe(200);
    expect((await get('/api/others', { 'x-api-key': 'client-a' })).statusCode).toBe(200);
  });

  it('never stores the API key itself', async () => {
    await get('/api/things', { 'x-api-key': 'secret-client-key' });
    expect(args).toHaveLength(1);
    expect(String(args[0][0])).toMatch(/^ratelimit:default:ProbeController\.things:key:[0-9a-f]{32}$/);
  });

  it('does not touch the store for requests outside /api', async () => {
    for (let i = 0; i < LIMIT + 2; i++) expect((await get('/health/live')).statusCode).toBe(200);
    expect(calls).toEqual([]);
  });
});

describe(`${StoreThrottlerStorage.name} reservations`, () => {
  const LIMIT = 100;
  const CHUNK = reservationSize(LIMIT);
  const hit = (storage: StoreThrottlerStorage, limit = LIMIT) =>
    storage.increment('k', 60_000, limit, 0, 'default');

  it('reserves a share of the limit per store call, small limits one hit at a time', () => {
    expect(CHUNK).toBe(5);
    expect(reservationSize(19)).toBe(1);
    expect(reservationSize(1)).toBe(1);
    expect(reservationSize(100_000)).toBe(5_000);
  });

  it('makes one store call per reserved chunk and reports exact counts with one replica', async () => {
    const { store, calls } = countingStore();
    const storage = new StoreThrottlerStorage(store);
    for (let i = 1; i <= LIMIT; i++) {
      const record = await hit(storage);
      expect(record).toMatchObject({ totalHits: i, isBlocked: false });
      expect(record.timeToExpire).toBeGreaterThan(58);
      expect(record.timeToExpire).toBeLessThanOrEqual(60);
    }
    expect(calls).toEqual(Array(LIMIT / CHUNK).fill('hitRateLimit'));
    const refused = await hit(storage);
    expect(refused).toMatchObject({ totalHits: LIMIT + 1, isBlocked: true });
    expect(refused.timeToBlockExpire).toBeGreaterThan(58);
    // Refused while blocked without asking the store again.
    expect(await hit(storage)).toMatchObject({ isBlocked: true });
    expect(calls).toHaveLength(LIMIT / CHUNK + 1);
  });

  it('shares concurrent requests of one replica into one reservation', async () => {
    const { store, calls } = countingStore();
    const storage = new StoreThrottlerStorage(store);
    const records = await Promise.all(Array.from({ length: CHUNK }, () => hit(storage)));
    expect(records.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect(calls).toHaveLength(1);
  });

  it('never allows more than the limit across two replicas on one store', async () => {
    const { store } = countingStore();
    const replicas = [new StoreThrottlerStorage(store), new StoreThrottlerStorage(store)];
    const sequential: boolean[] = [];
    for (let i = 0; i < 80; i++) sequential.push(!(await hit(replicas[i % 2])).isBlocked);
    const concurrent = await Promise.all(
      Array.from({ length: 80 }, (_, i) => hit(replicas[i % 2]).then((r) => !r.isBlocked)),
    );
    const allowed = [...sequential, ...concurrent].filter(Boolean).length;
    expect(allowed).toBeLessThanOrEqual(LIMIT);
    // Unused reservations make it stricter, by less than a chunk per replica.
    expect(allowed).toBeGreaterThan(LIMIT - 2 * CHUNK);
    expect(await store.get('ratelimit:default:k')).toBe(LIMIT + 1);
  });

  it('starts a new budget when the window ends', async () => {
    const { store, calls } = countingStore();
    const storage = new StoreThrottlerStorage(store);
    const short = () => storage.increment('k', 500, 40, 0, 'default');
    expect(await short()).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await short()).toMatchObject({ totalHits: 2, isBlocked: false });
    await new Promise((r) => setTimeout(r, 600));
    expect(await short()).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(calls).toHaveLength(2);
  });
});
