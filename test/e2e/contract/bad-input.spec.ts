import Redis from 'ioredis';
import { request as httpRequest } from 'node:http';
import { RunningSimulator, startSimulator } from '../../../simulator';
import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { ServiceProcess, startService, waitFor } from '../../support/service-process';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { API_KEY, FAST_TIMINGS, WEBHOOK_SECRET, serviceEnv } from '../instances/instances-e2e.harness';
import { BadRequest, generateBadRequests } from './bad-input.generator';

const PREFIX = 'badinput';
/** Keys that legitimately change with every request: rate-limit and failed-authentication counters. */
const VOLATILE = [`${PREFIX}:ratelimit:`, `${PREFIX}:authfail:`, `${PREFIX}:__sys:`];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http rather than fetch: fetch refuses some hostile inputs (GET bodies, odd headers) before sending. */
function send(baseUrl: string, req: BadRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

async function snapshot(redis: Redis): Promise<Record<string, string>> {
  const keys = (await redis.keys(`${PREFIX}:*`)).filter((k) => !VOLATILE.some((v) => k.startsWith(v))).sort();
  const dumps = await Promise.all(keys.map((k) => redis.dumpBuffer(k)));
  return Object.fromEntries(keys.map((k, i) => [k, dumps[i]?.toString('hex') ?? 'gone']));
}

function isEnvelope(text: string): boolean {
  try {
    const e = (JSON.parse(text) as { error?: Record<string, unknown> }).error;
    return (
      !!e &&
      typeof e.code === 'string' &&
      /^[A-Z_]+$/.test(e.code) &&
      typeof e.message === 'string' &&
      typeof e.requestId === 'string'
    );
  } catch {
    return false;
  }
}

// Hundreds of invalid requests generated from /docs-json against the service on the simulator, with a
// real Redis store: none may be a 500, all must be enveloped 4xx, none may reach Novita or change the store.
describe('generated bad-input sweep (service process, simulator, redis)', () => {
  let redisServer: RedisServerHandle;
  let redis: Redis;
  let sim: RunningSimulator;
  let receiver: WebhookReceiver;
  let svc: ServiceProcess;
  let cases: BadRequest[];
  const answers: { req: BadRequest; res: Answer }[] = [];
  let novitaCallsBefore: number;
  let novitaCallsAfter: number;
  let storeBefore: Record<string, string>;
  let storeAfter: Record<string, string>;
  let eventsBefore: number;

  beforeAll(async () => {
    redisServer = await startRedisServer();
    redis = new Redis(redisServer.url);
    sim = await startSimulator({ timings: FAST_TIMINGS, seed: 11 });
    receiver = await WebhookReceiver.start({ secret: WEBHOOK_SECRET });
    svc = await startService(
      serviceEnv(sim, receiver, {
        REDIS_URL: redisServer.url,
        REDIS_KEY_PREFIX: PREFIX,
        AUTO_STOP_ENABLED: 'false',
        SYNC_ENABLE_AUTOMATIC_SYNC: 'false',
        MIGRATION_ENABLED: 'false',
        AUTH_FAILURE_MAX_ATTEMPTS: '1000',
      }),
    );
    const api = (method: string, path: string, body?: unknown) =>
      fetch(svc.url + path, {
        method,
        headers: { 'x-api-key': API_KEY, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

    // One real instance, followed to ready, so ids, names and deliveries in the requests exist.
    const created = await api('POST', '/api/instances', {
      name: 'sweep-target',
      productName: 'RTX 4090 24GB',
      templateId: '212',
    });
    expect(created.status).toBe(201);
    const instanceId = created.body.instanceId as string;
    await waitFor(async () => (await api('GET', '/api/instances?status=ready')).body.total === 1, 20_000);
    // Quiet: every delivery final, so background work no longer touches the store.
    await waitFor(async () => {
      const list = await api('GET', '/api/webhooks/deliveries?limit=200');
      return (
        list.body.total >= 3 && list.body.deliveries.every((d: { state: string }) => d.state === 'delivered')
      );
    }, 20_000);
    const deliveries = await api('GET', '/api/webhooks/deliveries?limit=1');

    const doc = (await (await fetch(`${svc.url}/docs-json`)).json()) as Parameters<
      typeof generateBadRequests
    >[0];
    cases = generateBadRequests(doc, {
      apiKey: API_KEY,
      pathValues: { instanceId, id: deliveries.body.deliveries[0].id },
      validBodies: {
        CreateInstanceDto: { name: 'sweep-never-created', productName: 'RTX 4090 24GB', templateId: '212' },
        StartByNameDto: { instanceName: 'sweep-target' },
        InstanceByNameActionDto: { instanceName: 'sweep-target' },
      },
    });

    await new Promise((r) => setTimeout(r, 500));
    novitaCallsBefore = sim.sim.callLog().length;
    storeBefore = await snapshot(redis);
    eventsBefore = receiver.events.length;
    for (const req of cases) answers.push({ req, res: await send(svc.url, req) });
    await new Promise((r) => setTimeout(r, 500));
    novitaCallsAfter = sim.sim.callLog().length;
    storeAfter = await snapshot(redis);
  }, 120_000);

  afterAll(async () => {
    await svc?.kill('SIGTERM');
    await receiver?.stop();
    await sim?.close();
    redis?.disconnect();
    await redisServer?.stop();
  });

  it('generates at least 500 invalid requests, covering every operation', () => {
    expect(cases.length).toBeGreaterThanOrEqual(500);
    const operations = new Set(cases.map((c) => c.label.split(':')[0]));
    expect(operations.size).toBeGreaterThanOrEqual(19);
    console.log(`bad-input sweep: ${cases.length} requests over ${operations.size} operations`);
  });

  it('answers none of them with a 5xx, and every one with a 4xx', () => {
    const wrong = answers
      .filter(({ res }) => res.status < 400 || res.status >= 500)
      .map(({ req, res }) => `${res.status} ${req.label} ${res.body.slice(0, 160)}`);
    expect(wrong).toEqual([]);
  });

  it('answers every one in the error envelope, with X-Request-ID matching the body', () => {
    const outside = answers
      .filter(
        ({ res }) =>
          !isEnvelope(res.body) || JSON.parse(res.body).error.requestId !== res.headers['x-request-id'],
      )
      .map(({ req, res }) => `${res.status} ${req.label}: ${res.body.slice(0, 160)}`);
    expect(outside).toEqual([]);
  });

  it('calls Novita for none of them', () => {
    expect(novitaCallsAfter - novitaCallsBefore).toBe(0);
  });

  it('leaves the store and the webhook receiver untouched', () => {
    expect(storeAfter).toEqual(storeBefore);
    expect(Object.keys(storeBefore).length).toBeGreaterThan(3);
    expect(receiver.events.length).toBe(eventsBefore);
  });
});
