import { Controller, Get } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { ThrottlerModule } from '@nestjs/throttler';
import { MemoryStateStore } from '../../infra/store/memory-state-store';
import { StateStore } from '../../infra/store/state-store';
import { AllExceptionsFilter } from '../http/all-exceptions.filter';
import { AppThrottlerGuard } from './app-throttler.guard';
import { StoreThrottlerStorage } from './store-throttler.storage';

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

  it('makes exactly one store call per rate-limited request, allowed or refused', async () => {
    for (let i = 0; i < LIMIT + 2; i++) await get('/api/things', { 'x-api-key': 'client-a' });
    expect(calls).toEqual(Array(LIMIT + 2).fill('hitRateLimit'));
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
