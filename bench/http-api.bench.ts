/**
 * HTTP API benchmark: request rate and latency of the hot read and heartbeat paths, with the whole app
 * (Fastify, guards, rate limiter, validation, store) in one process against the embedded simulator.
 * Loopback only; bounded by duration and request count.
 * Usage: npx ts-node --transpile-only bench/http-api.bench.ts [seconds=5] [concurrency=32] [store=memory|redis]
 */
import { startSimulator } from '../simulator';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config.loader';
import { startRedisServer } from '../test/support/redis-server';

const SECONDS = Number(process.argv[2] ?? 5);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const STORE = process.argv[4] ?? 'memory';
const MAX_REQUESTS = 200_000;
const KEY = 'bench-key';

interface Result {
  name: string;
  count: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

async function load(
  name: string,
  base: string,
  makeRequest: (i: number) => [string, RequestInit],
): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline && issued < MAX_REQUESTS) {
        const [path, init] = makeRequest(issued++);
        const t0 = performance.now();
        const res = await fetch(base + path, init);
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (res.status >= 400) errors++;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return {
    name,
    count: latencies.length,
    errors,
    rps: latencies.length / elapsed,
    p50: pct(0.5),
    p99: pct(0.99),
  };
}

async function main(): Promise<void> {
  const sim = await startSimulator({ speed: 1000 });
  sim.sim.setCapacity(undefined, 'RTX 4090 24GB', 1000);
  const redis = STORE === 'redis' ? await startRedisServer() : undefined;
  const config = loadConfig({
    NOVITA_API_KEY: sim.apiKey,
    NOVITA_API_BASE_URL: sim.baseUrl,
    API_KEYS: KEY,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
    RATE_LIMIT_MAX_REQUESTS: '100000',
    INSTANCE_CACHE_STALE_MS: '600000',
    ...(redis ? { REDIS_URL: redis.url } : {}),
  });
  const app = await createApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = await app.getUrl();
  const headers = { 'X-API-Key': KEY, 'Content-Type': 'application/json' };

  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${base}/api/instances`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: `bench-${i}`,
        productName: 'RTX 4090',
        imageUrl: 'nginx:latest',
        billingMode: 'onDemand',
      }),
    });
    const body = (await res.json()) as { instanceId?: string };
    if (!body.instanceId) throw new Error(`create failed: ${JSON.stringify(body)}`);
    ids.push(body.instanceId);
  }
  const rssBefore = process.memoryUsage().rss;
  const results = [
    await load('GET /health/live', base, () => ['/health/live', {}]),
    await load('GET /api/instances/:id (cached)', base, (i) => [
      `/api/instances/${ids[i % ids.length]}`,
      { headers },
    ]),
    await load('GET /api/instances?limit=50', base, () => ['/api/instances?limit=50', { headers }]),
    await load('PUT /api/instances/:id/last-used', base, (i) => [
      `/api/instances/${ids[i % ids.length]}/last-used`,
      { method: 'PUT', headers, body: '{}' },
    ]),
  ];
  const rssAfter = process.memoryUsage().rss;
  await app.close();
  await sim.close();
  await redis?.stop();

  console.log(
    `HTTP API, ${STORE} store, ${CONCURRENCY} concurrent clients, ${SECONDS}s per row (client and server share one process)\n`,
  );
  console.log('| route | requests | errors | req/s | p50 ms | p99 ms |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.count} | ${r.errors} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
    );
  }
  console.log(
    `\nRSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before load, ${(rssAfter / 2 ** 20).toFixed(0)} MiB after.`,
  );
}

void main();
