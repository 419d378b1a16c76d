import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { ServiceProcess, startService, waitFor } from '../../support/service-process';

// Readiness follows the store: 503 while Redis is down, 200 again once it is back, with no restart of the service.
describe('store outage (service process on a real redis-server)', () => {
  let redis: RedisServerHandle;
  let svc: ServiceProcess;

  beforeAll(async () => {
    redis = await startRedisServer();
  });

  afterAll(async () => {
    await svc?.kill('SIGTERM');
    await redis?.stop();
  });

  it('goes unready when Redis stops and recovers by itself when it restarts', async () => {
    svc = await startService({
      NOVITA_API_KEY: 'sk_unused',
      REDIS_URL: redis.url,
      REDIS_COMMAND_TIMEOUT_MS: '500',
    });
    await waitFor(async () => (await fetch(`${svc.url}/health/ready`)).status === 200);

    await redis.stop();
    const down = await waitFor(async () => {
      const res = await fetch(`${svc.url}/health/ready`);
      return res.status === 503 ? res : undefined;
    });
    const body = (await down.json()) as any;
    expect(body.error.code).toBe('STORE_UNAVAILABLE');
    expect(body.error.message).toContain('store');
    expect((await fetch(`${svc.url}/health/live`)).status).toBe(200);
    // API callers learn that the store is down, never where it lives or what the driver said.
    const api = await fetch(`${svc.url}/api/instances`);
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('1');
    const apiText = await api.text();
    expect(JSON.parse(apiText).error).toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringMatching(/^State store unavailable during \w+; retry shortly$/),
    });
    expect(apiText).not.toContain(String(redis.port));
    expect(apiText).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|redis:\/\//i);

    await redis.restart();
    await waitFor(async () => (await fetch(`${svc.url}/health/ready`)).status === 200, 20_000);
    expect(svc.child.exitCode).toBeNull();
  }, 90_000);

  it('starts while Redis is unreachable, reports why, and becomes ready once Redis appears', async () => {
    await svc.kill('SIGTERM');
    await redis.stop();
    svc = await startService({
      NOVITA_API_KEY: 'sk_unused',
      REDIS_URL: redis.url,
      REDIS_COMMAND_TIMEOUT_MS: '500',
    });
    const res = await fetch(`${svc.url}/health/ready`);
    expect(res.status).toBe(503);
    await waitFor(async () =>
      svc.lines.some((l) => /redis|store/i.test(l) && /unreachable|unavailable|ECONNREFUSED|down/i.test(l)),
    );
    await redis.restart();
    await waitFor(async () => (await fetch(`${svc.url}/health/ready`)).status === 200, 20_000);
  }, 90_000);
});
