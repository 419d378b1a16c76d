import { Controller, Get } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { SkipThrottle, Throttle, ThrottlerModule } from '@nestjs/throttler';
import { MemoryStateStore } from '../../infra/store/memory-state-store';
import { AllExceptionsFilter } from '../http/all-exceptions.filter';
import { AppThrottlerGuard } from './app-throttler.guard';
import { StoreThrottlerStorage } from './store-throttler.storage';

@Controller('api')
class DecoratedController {
  @Get('plain')
  plain() {
    return { ok: true };
  }

  @Throttle({ default: { limit: 1, ttl: 60_000 } })
  @Get('strict')
  strict() {
    return { ok: true };
  }

  @SkipThrottle()
  @Get('free')
  free() {
    return { ok: true };
  }

  @Throttle({ default: { limit: () => 2, ttl: () => 60_000 } })
  @Get('computed')
  computed() {
    return { ok: true };
  }
}

@SkipThrottle()
@Controller('api/skipped')
class SkippedController {
  @Get()
  any() {
    return { ok: true };
  }
}

describe(AppThrottlerGuard.name, () => {
  let app: NestFastifyApplication;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', limit: 3, ttl: 60_000 }],
          storage: new StoreThrottlerStorage(new MemoryStateStore()),
        }),
      ],
      controllers: [DecoratedController, SkippedController],
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

  const statuses = async (url: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await app.inject({ method: 'GET', url })).statusCode);
    return out;
  };

  it('applies the module limit, and the same again on every request to a handler', async () => {
    expect(await statuses('/api/plain', 5)).toEqual([200, 200, 200, 429, 429]);
  });

  it('honours a handler limit, a skipped handler and a skipped controller', async () => {
    expect(await statuses('/api/strict', 3)).toEqual([200, 429, 429]);
    expect(await statuses('/api/free', 5)).toEqual([200, 200, 200, 200, 200]);
    expect(await statuses('/api/skipped', 5)).toEqual([200, 200, 200, 200, 200]);
    const free = await app.inject({ method: 'GET', url: '/api/free' });
    expect(free.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('resolves limits given as functions on each request', async () => {
    const res = await statuses('/api/computed', 3);
    expect(res).toEqual([200, 200, 429]);
    const again = await app.inject({ method: 'GET', url: '/api/plain' });
    expect(again.headers['x-ratelimit-limit']).toBe('3');
  });
});

describe(`${AppThrottlerGuard.name}.spendAtOnce (answers served before Fastify and Nest)`, () => {
  let app: NestFastifyApplication;
  let guard: AppThrottlerGuard;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ThrottlerModule.forRoot({
          // 100 per window: each store call reserves 5 hits for this replica.
          throttlers: [{ name: 'default', limit: 100, ttl: 60_000 }],
          storage: new StoreThrottlerStorage(new MemoryStateStore()),
        }),
      ],
      controllers: [DecoratedController],
      providers: [AppThrottlerGuard, { provide: APP_GUARD, useExisting: AppThrottlerGuard }],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    guard = app.get(AppThrottlerGuard);
  });

  afterEach(() => app.close());

  const request = (url = '/api/plain') => ({ url, ip: '10.0.0.1', headers: { 'x-api-key': 'k' } }) as never;
  const plain = DecoratedController.prototype.plain;
  const spend = (handler: object, url?: string) => {
    const pairs = guard.spendAtOnce(DecoratedController, handler, request(url));
    const headers: Record<string, string | number> = {};
    for (let i = 0; pairs && i < pairs.length; i += 2) headers[pairs[i]] = pairs[i + 1];
    return { ok: pairs !== undefined, headers };
  };

  it('spends the hits reserved by the guard, with the headers the guard sets, then leaves the next reservation to it', async () => {
    expect(spend(plain).ok).toBe(false); // nothing reserved yet
    const first = await app.inject({ method: 'GET', url: '/api/plain', headers: { 'x-api-key': 'k' } });
    expect(first.headers['x-ratelimit-remaining']).toBe('99');
    const spent = [1, 2, 3, 4].map(() => spend(plain));
    expect(spent.map((s) => s.ok)).toEqual([true, true, true, true]);
    expect(spent.map((s) => s.headers['x-ratelimit-remaining'])).toEqual([98, 97, 96, 95]);
    expect(spent[0].headers).toEqual({
      'x-ratelimit-limit': 100,
      'x-ratelimit-remaining': 98,
      'x-ratelimit-reset': Number(first.headers['x-ratelimit-reset']),
    });
    expect(spend(plain)).toEqual({ ok: false, headers: {} }); // the 5 are spent: the guard reserves again
    const next = await app.inject({ method: 'GET', url: '/api/plain', headers: { 'x-api-key': 'k' } });
    expect(next.headers['x-ratelimit-remaining']).toBe('94');
  });

  it('keeps budgets apart per endpoint and client, as the guard does', async () => {
    await app.inject({ method: 'GET', url: '/api/plain', headers: { 'x-api-key': 'k' } });
    expect(spend(DecoratedController.prototype.strict).ok).toBe(false);
    const other = guard.spendAtOnce(DecoratedController, plain, {
      url: '/api/plain',
      ip: '10.0.0.1',
      headers: { 'x-api-key': 'other' },
    });
    expect(other).toBeUndefined();
  });

  it('leaves everything to the guard when the module options bring their own tracker', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', limit: 100, ttl: 60_000 }],
          storage: new StoreThrottlerStorage(new MemoryStateStore()),
          getTracker: () => 'everyone',
        }),
      ],
      controllers: [DecoratedController],
      providers: [AppThrottlerGuard, { provide: APP_GUARD, useExisting: AppThrottlerGuard }],
    }).compile();
    const other = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    await other.init();
    try {
      await other.inject({ method: 'GET', url: '/api/plain' });
      const g = other.get(AppThrottlerGuard);
      expect(g.spendAtOnce(DecoratedController, plain, request())).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('lets skipped handlers and non-API paths through without spending; leaves per-request settings to the guard', () => {
    expect(spend(DecoratedController.prototype.free)).toEqual({ ok: true, headers: {} });
    expect(spend(plain, '/health/live')).toEqual({ ok: true, headers: {} });
    expect(spend(DecoratedController.prototype.computed).ok).toBe(false);
  });
});
