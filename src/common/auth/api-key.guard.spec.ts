import { ExecutionContext } from '@nestjs/common';
import type { SecurityConfig } from '../../config/config.types';
import { MemoryStateStore } from '../../infra/store/memory-state-store';
import { AppError } from '../errors';
import { ApiKeyGuard } from './api-key.guard';
import { AuthFailureLimiter } from './auth-failure.limiter';

const KEY = 'the-valid-key';
const BUDGET = 2;

describe(ApiKeyGuard.name, () => {
  let store: MemoryStateStore;
  let guard: ApiKeyGuard;
  let storeCalls: jest.SpyInstance[];

  /** One replica's guard; replicas built on the same store share the failure budget. */
  const replica = () => {
    const security = {
      apiKeys: [KEY],
      authFailureMaxAttempts: BUDGET,
      authFailureWindowMs: 60_000,
    } as SecurityConfig;
    return new ApiKeyGuard(security, new AuthFailureLimiter(store, security));
  };

  beforeEach(() => {
    store = new MemoryStateStore();
    guard = replica();
    storeCalls = (['get', 'increment', 'ttl', 'set'] as const).map((m) => jest.spyOn(store, m));
  });

  const storeRoundTrips = () => storeCalls.reduce((sum, spy) => sum + spy.mock.calls.length, 0);

  const attempt = (ip: string, key?: string, url = '/api/instances', on = guard) => {
    const req = { url, ip, headers: key ? { 'x-api-key': key } : {} };
    const context = { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
    return Promise.resolve(on.canActivate(context));
  };
  const statusOf = (p: Promise<unknown>) =>
    p.then(
      () => 200,
      (err: AppError) => err.httpStatus,
    );

  it('lets a correct key through without any store round trip', async () => {
    for (let i = 0; i < 5; i++) await expect(attempt('198.51.100.1', KEY)).resolves.toBe(true);
    expect(storeRoundTrips()).toBe(0);
  });

  it('answers outside /api at once, without a key', () => {
    const context = {
      switchToHttp: () => ({ getRequest: () => ({ url: '/health/live', ip: '198.51.100.9', headers: {} }) }),
    } as unknown as ExecutionContext;
    expect(guard.canActivate(context)).toBe(true);
    expect(storeRoundTrips()).toBe(0);
  });

  it('refuses every key, the correct one too, from an address past its failure budget', async () => {
    for (let i = 0; i < BUDGET; i++) expect(await statusOf(attempt('198.51.100.2', 'wrong'))).toBe(401);
    expect(await statusOf(attempt('198.51.100.2', 'wrong'))).toBe(429);
    expect(await statusOf(attempt('198.51.100.2', KEY))).toBe(429);
    expect(await statusOf(attempt('198.51.100.3', KEY))).toBe(200);
  });

  it('refuses a correct key from an address blocked through another replica once it failed here', async () => {
    const other = replica();
    for (let i = 0; i <= BUDGET; i++) await statusOf(attempt('198.51.100.4', 'wrong', undefined, other));

    expect(await statusOf(attempt('198.51.100.4', 'wrong'))).toBe(429);
    expect(await statusOf(attempt('198.51.100.4', KEY))).toBe(429);
  });

  describe('passesAtOnce (answers served before Fastify and Nest)', () => {
    const passes = (ip: string, key?: string, url = '/api/instances/x') =>
      guard.passesAtOnce({ url, ip, headers: key ? { 'x-api-key': key } : {} } as never);

    it('is yes for a correct key, and for paths outside /api, without a store round trip', () => {
      expect(passes('198.51.100.5', KEY)).toBe(true);
      expect(passes('198.51.100.5', undefined, '/health/live')).toBe(true);
      expect(storeRoundTrips()).toBe(0);
    });

    it('leaves a missing or wrong key to canActivate, which answers and counts it', async () => {
      expect(passes('198.51.100.6')).toBe(false);
      expect(passes('198.51.100.6', 'wrong')).toBe(false);
      expect(storeRoundTrips()).toBe(0);
    });

    it('leaves even a correct key to canActivate from an address that failed here within the window', async () => {
      expect(await statusOf(attempt('198.51.100.7', 'wrong'))).toBe(401);
      expect(passes('198.51.100.7', KEY)).toBe(false);
      expect(passes('198.51.100.8', KEY)).toBe(true);
    });

    it('is yes for everything when no keys are configured', () => {
      const open = new ApiKeyGuard(
        { apiKeys: [] } as unknown as SecurityConfig,
        new AuthFailureLimiter(store, {} as SecurityConfig),
      );
      expect(open.passesAtOnce({ url: '/api/instances', ip: '198.51.100.9', headers: {} } as never)).toBe(
        true,
      );
    });
  });
});
