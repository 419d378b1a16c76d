import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { ServiceProcess, startService } from '../../support/service-process';

// Two replicas on one Redis must share one budget per client, or a limit of N becomes N x replicas.
describe('rate limiting across replicas', () => {
  let redis: RedisServerHandle;
  const replicas: ServiceProcess[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = {
      NOVITA_API_KEY: 'sk_unused',
      REDIS_URL: redis.url,
      RATE_LIMIT_MAX_REQUESTS: '6',
      RATE_LIMIT_WINDOW_MS: '60000',
    };
    replicas.push(...(await Promise.all([startService(env), startService(env)])));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
    await redis?.stop();
  });

  it('shares one budget between two service processes', async () => {
    const statuses: number[] = [];
    let lastLimited: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${replicas[i % 2].url}/api/instances`);
      statuses.push(res.status);
      if (res.status === 429) lastLimited = res;
      else expect(res.headers.get('x-ratelimit-limit')).toBe('6');
    }
    // 6 allowed in total (3 per replica), then both replicas refuse.
    expect(statuses.slice(0, 6).every((s) => s !== 429)).toBe(true);
    expect(statuses.slice(6)).toEqual([429, 429]);
    expect(Number(lastLimited!.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await lastLimited!.json()) as any;
    expect(body.error.code).toBe('RATE_LIMITED');
  });

  it('does not rate-limit probes', async () => {
    for (let i = 0; i < 10; i++) expect((await fetch(`${replicas[0].url}/health/live`)).status).toBe(200);
  });
});
