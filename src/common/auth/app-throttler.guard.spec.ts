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
