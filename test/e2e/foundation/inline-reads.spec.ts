import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../../src/app.factory';
import { loadConfig } from '../../../src/config/config.loader';
import { CacheRegistry } from '../../../src/infra/metrics/cache-registry';
import {
  InstanceQueryService,
  OBSERVED_STATUS_CACHE,
} from '../../../src/modules/instances/instance-query.service';
import { recordFromNovita } from '../../../src/modules/records/instance-observation';
import { InstanceRepository } from '../../../src/modules/records/instance.repository';
import { newInstanceId } from '../../../src/modules/records/instance.types';
import { FakeNovitaClient } from '../../fakes/fake-novita-client';

const KEY = 'inline-reads-key';

/**
 * The wiring of the reads answered before Fastify and Nest (app.factory.ts), in-process on the memory
 * store: which requests the shortcut answers and which go to Nest's handler (InstanceQueryService.get).
 */
describe('reads answered before Fastify and Nest (app wiring)', () => {
  let app: NestFastifyApplication;
  let get: jest.SpyInstance;
  let id: string;
  let base: string;

  beforeAll(async () => {
    app = await createApp(
      loadConfig({
        NOVITA_API_KEY: 'sk_unused',
        // Nothing listens there: the startup sync and background refreshes fail, and nothing else calls Novita.
        NOVITA_API_BASE_URL: 'http://127.0.0.1:9/gpu-instance/openapi/v1',
        NOVITA_MAX_RETRIES: '0',
        API_KEYS: KEY,
        LOG_LEVEL: 'silent',
        INSTANCE_CACHE_STALE_MS: '600000',
        // Chunks of 10: the replica's first request reserves, the next nine spend without the store.
        RATE_LIMIT_MAX_REQUESTS: '200',
        RATE_LIMIT_WINDOW_MS: '3600000',
        AUTO_STOP_ENABLED: 'false',
        SYNC_ENABLE_AUTOMATIC_SYNC: 'false',
        MIGRATION_ENABLED: 'false',
      }),
      { swaggerUi: false },
    );
    // Over a real socket: the shortcut sits in the HTTP server's request listener, which inject() bypasses.
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = await app.getUrl();
    const inst = new FakeNovitaClient().seed({ id: 'nv-inline-1', name: 'inline-1', status: 'running' });
    const record = recordFromNovita(newInstanceId(), inst, new Date());
    await app.get(InstanceRepository).save(record);
    id = record.id;
    get = jest.spyOn(app.get(InstanceQueryService), 'get');
  }, 30_000);

  afterAll(() => app?.close());

  const request = async (url: string, key: string | null = KEY) => {
    const res = await fetch(base + url, { headers: key ? { 'x-api-key': key } : {} });
    const body = (await res.json()) as { stale?: boolean };
    return { statusCode: res.status, headers: res.headers, json: () => body };
  };

  it('answers a fresh record without Nest once the budget is reserved, counting every answer', async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await request(`/api/instances/${id}`));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.json().stale)).toEqual([false, false, false, false, false, false]);
    expect(answers.map((a) => Number(a.headers.get('x-ratelimit-remaining')))).toEqual([
      199, 198, 197, 196, 195, 194,
    ]);
    // Only the first went through Nest: it reserved the budget the others spent.
    expect(get).toHaveBeenCalledTimes(1);
  });

  it('counts its answers in the HTTP metrics under the route template, as Fastify’s hooks do', async () => {
    const count = async (route: string) => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`http_requests_total{method="GET",route="${route}",status_code="200"}`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const [live, read] = [await count('/health/live'), await count('/api/instances/:instanceId')];
    get.mockClear();
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      expect((await request(`/api/instances/${id}`)).statusCode).toBe(200);
    }
    expect(get).not.toHaveBeenCalled();
    expect(await count('/health/live')).toBe(live + 3);
    expect(await count('/api/instances/:instanceId')).toBe(read + 3);
  });

  it('leaves a missing key, a malformed id and a stale record to Nest', async () => {
    get.mockClear();
    expect((await request(`/api/instances/${id}`, null)).statusCode).toBe(401);
    expect((await request('/api/instances/bad$id')).statusCode).toBe(400);
    expect(get).not.toHaveBeenCalled(); // the guard and the pipe answered those

    await app.get(CacheRegistry).clear([OBSERVED_STATUS_CACHE]);
    const stale = await request(`/api/instances/${id}`);
    expect(stale.json()).toMatchObject({ id, stale: true });
    expect(get).toHaveBeenCalledTimes(1);
  });
});
