import { hasPromtool, parsePrometheusText, promtoolCheck } from '../../support/prometheus-text';
import { API_KEY, InstancesE2e, startInstancesE2e } from '../instances/instances-e2e.harness';

const ALLOWED_ORIGIN = 'https://ops.example.com';
/** Headers helmet defines (security-headers.ts); every response must carry them. */
const SECURITY_HEADERS = [
  'content-security-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'cross-origin-opener-policy',
];

// The whole service as a process, after real traffic: a create through the simulator and its webhooks.
describe('operations surface (e2e)', () => {
  let t: InstancesE2e;
  let instanceId: string;

  beforeAll(async () => {
    t = await startInstancesE2e({ CORS_ORIGINS: ALLOWED_ORIGIN, INSTANCE_CACHE_STALE_MS: '60000' });
    const created = await t.request('POST', '/api/instances', {
      productName: 'RTX 4090 24GB',
      templateId: '212',
      name: 'ops-1',
    });
    expect(created.status).toBe(201);
    instanceId = created.body.instanceId;
    await t.waitForEvent('instance.running', instanceId, undefined, 20_000);
    for (let i = 0; i < 3; i++)
      expect((await t.request('GET', `/api/instances/${instanceId}`)).status).toBe(200);
    // Not one of ours: asked of Novita, which answers not found.
    await t.request('GET', '/api/instances/novita-id-that-does-not-exist');
    await (await fetch(`${t.svc.url}/no/such/route`)).arrayBuffer();
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(t.svc.url + path, { headers });

  describe('/metrics', () => {
    let text: string;
    beforeAll(async () => {
      const res = await get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      text = await res.text();
    });

    it('exposes every family the operations docs list, with samples where traffic happened', () => {
      const families = parsePrometheusText(text);
      const expected: Record<string, string> = {
        http_requests_total: 'counter',
        http_request_duration_seconds: 'histogram',
        novita_api_requests_total: 'counter',
        novita_api_request_duration_seconds: 'histogram',
        novita_circuit_breaker_state: 'gauge',
        state_store_command_duration_seconds: 'histogram',
        state_store_command_errors_total: 'counter',
        background_job_passes_total: 'counter',
        background_job_pass_duration_seconds: 'histogram',
        background_job_last_success_timestamp_seconds: 'gauge',
        gpu_instances: 'gauge',
        webhook_delivery_attempts_total: 'counter',
        webhook_queue_depth: 'gauge',
        auto_stop_stops_total: 'counter',
        auto_stop_gpu_seconds_saved_total: 'counter',
        auto_stop_cost_saved_dollars_total: 'counter',
        spot_migrations_total: 'counter',
        cache_lookups_total: 'counter',
        cache_entries: 'gauge',
        process_cpu_seconds_total: 'counter',
      };
      for (const [name, type] of Object.entries(expected)) {
        expect({ name, type: families.get(name)?.type }).toEqual({ name, type });
      }
      /** Sum of the samples with this exact name (a family, or a histogram's _count) and labels. */
      const value = (sampleName: string, labels: Record<string, string>) =>
        [...families.values()]
          .flatMap((f) => f.samples)
          .filter((s) => s.name === sampleName)
          .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
          .reduce((n, s) => n + s.value, 0);

      // Route templates, never raw ids, and unmatched paths folded into one label value.
      const routes = new Set(families.get('http_requests_total')!.samples.map((s) => s.labels.route));
      expect([...routes]).toEqual(
        expect.arrayContaining(['/api/instances', '/api/instances/:instanceId', 'unmatched']),
      );
      expect([...routes].some((r) => r.includes(instanceId))).toBe(false);
      expect(
        value('http_requests_total', { route: '/api/instances', method: 'POST', status_code: '201' }),
      ).toBe(1);

      expect(value('novita_api_requests_total', { operation: 'createInstance', result: 'ok' })).toBe(1);
      const getInstanceErrors = families
        .get('novita_api_requests_total')!
        .samples.filter((s) => s.labels.operation === 'getInstance' && s.labels.result !== 'ok');
      expect(getInstanceErrors.map((s) => s.labels.result)).toEqual([
        expect.stringMatching(/^(not_found|upstream_bad_request)$/),
      ]);
      expect(value('novita_circuit_breaker_state', { state: 'closed' })).toBe(1);
      expect(value('state_store_command_duration_seconds_count', { command: 'get' })).toBeGreaterThan(0);
      expect(value('webhook_delivery_attempts_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(2);
      // This replica is the only one, so it holds the lease and reports the shared-state gauges.
      expect(families.get('gpu_instances')!.samples).toEqual([
        {
          name: 'gpu_instances',
          labels: { status: expect.stringMatching(/^(running|ready)$/), managed: 'true' },
          value: 1,
        },
      ]);
      expect(
        value('cache_lookups_total', { cache: 'observed-status', result: 'hit' }),
      ).toBeGreaterThanOrEqual(1);
      expect(value('cache_lookups_total', { cache: 'templates', result: 'miss' })).toBe(1);
    });

    const runPromtool = hasPromtool() || process.env.CI === 'true' ? it : it.skip;
    runPromtool('passes promtool check metrics', () => {
      const { status, output } = promtoolCheck(text);
      expect(output).toBe('');
      expect(status).toBe(0);
    });
  });

  it('/api/metrics/summary and /api/metrics answer the spec fields', async () => {
    const summary = await t.request('GET', '/api/metrics/summary');
    expect(summary.status).toBe(200);
    expect(summary.body).toEqual({
      timestamp: expect.any(String),
      requests: {
        total: expect.any(Number),
        byStatusCode: expect.objectContaining({ '200': expect.any(Number), '201': 1 }),
      },
      jobs: { processed: expect.any(Number), byType: expect.any(Object) },
      system: {
        memory: {
          rssMB: expect.any(Number),
          heapUsedMB: expect.any(Number),
          heapTotalMB: expect.any(Number),
          externalMB: expect.any(Number),
        },
        cpu: {
          usagePercent: expect.any(Number),
          loadAverage: [expect.any(Number), expect.any(Number), expect.any(Number)],
        },
        uptimeSeconds: expect.any(Number),
      },
      cache: {
        hitRatio: expect.any(Number),
        totalSize: expect.any(Number),
        totalEntries: expect.any(Number),
      },
    });
    expect(summary.body.requests.byStatusCode['404']).toBeGreaterThanOrEqual(2);
    expect(summary.body.cache.hitRatio).toBeGreaterThan(0);

    const full = await t.request('GET', '/api/metrics');
    expect(full.status).toBe(200);
    expect(Object.keys(full.body).sort()).toEqual([
      'cache',
      'jobs',
      'novita',
      'requests',
      'system',
      'timestamp',
      'webhooks',
    ]);
    expect(full.body.requests.byRoute['POST /api/instances']).toBe(1);
    expect(full.body.requests.requestsPerMinute).toBeGreaterThan(0);
    expect(full.body.webhooks.attemptsByOutcome.delivered).toBeGreaterThanOrEqual(2);
    expect(full.body.novita.byResult.ok).toBeGreaterThan(0);

    const noKey = await get('/api/metrics/summary');
    expect(noKey.status).toBe(401);
  });

  it('/api/cache/stats lists each cache; clearing every cache leaves instances and the outbox as they were', async () => {
    const stats = await t.request('GET', '/api/cache/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.caches.map((c: { name: string }) => c.name).sort()).toEqual([
      'clusters',
      'novita-listing',
      'observed-status',
      'templates',
    ]);
    for (const c of stats.body.caches) {
      expect(Object.keys(c).sort()).toEqual([
        'description',
        'entries',
        'hitRatio',
        'hits',
        'misses',
        'name',
        'sizeBytes',
      ]);
    }
    const templates = stats.body.caches.find((c: { name: string }) => c.name === 'templates');
    expect(templates).toMatchObject({ entries: 1, misses: 1 });
    expect(templates.sizeBytes).toBeGreaterThan(0);
    const observed = stats.body.caches.find((c: { name: string }) => c.name === 'observed-status');
    expect(observed.entries).toBe(1);

    const instancesBefore = await t.request('GET', '/api/instances');
    const deliveriesBefore = await t.request('GET', '/api/webhooks/deliveries');
    expect(deliveriesBefore.body.deliveries.length).toBeGreaterThanOrEqual(2);

    const unknown = await t.request('POST', '/api/cache/clear', { caches: ['everything'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.known.sort()).toEqual([
      'clusters',
      'novita-listing',
      'observed-status',
      'templates',
    ]);

    const cleared = await t.request('POST', '/api/cache/clear', {});
    expect(cleared.status).toBe(200);
    expect(cleared.body.cleared.sort()).toEqual([
      'clusters',
      'novita-listing',
      'observed-status',
      'templates',
    ]);

    const after = await t.request('GET', '/api/cache/stats');
    for (const c of after.body.caches) expect(c.entries).toBe(0);
    expect(await t.request('GET', '/api/instances')).toEqual(instancesBefore);
    expect(await t.request('GET', '/api/webhooks/deliveries')).toEqual(deliveriesBefore);

    // The next read of the instance (a miss) answers the same record at once and asks Novita again in
    // the background.
    const reads = () =>
      t.sim.sim.callLog({ method: 'GET', path: '/gpu/instance' }).filter((c) => c.path === '/gpu/instance')
        .length;
    const calls = reads();
    const again = await t.request('GET', `/api/instances/${instanceId}`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ instanceId, stale: true });
    for (let i = 0; i < 100 && reads() === calls; i++) await new Promise((r) => setTimeout(r, 50));
    expect(reads()).toBe(calls + 1);

    expect((await get('/api/cache/stats')).status).toBe(401);
  });

  it('/health answers the detailed shape', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      status: 'healthy',
      timestamp: expect.any(String),
      services: {
        novitaApi: { status: 'up', circuit: 'closed', lastSuccessAt: expect.any(String) },
        store: { status: 'up', adapter: 'memory' },
        webhookQueue: { status: 'up', depth: expect.any(Number) },
        cache: { status: 'up', caches: 4, hitRatio: expect.any(Number), totalEntries: expect.any(Number) },
        jobs: expect.any(Object),
      },
      performance: {
        requestsPerMinute: expect.any(Number),
        averageResponseTimeMs: expect.any(Number),
        errorRate: expect.any(Number),
      },
      system: { memory: { rssMB: expect.any(Number) }, cpu: { usagePercent: expect.any(Number) } },
    });
    expect(body.performance.requestsPerMinute).toBeGreaterThan(0);
    // Probes stay as they were.
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health/ready')).status).toBe(200);
  });

  it('documents each operations endpoint in the OpenAPI document, with its error responses', async () => {
    const doc = (await (await get('/docs-json')).json()) as any;
    const expected: [string, string, string[]][] = [
      ['/metrics', 'get', ['200', '401']],
      ['/api/metrics', 'get', ['200', '400', '401', '429', '503']],
      ['/api/metrics/summary', 'get', ['200', '400', '401', '429', '503']],
      ['/api/cache/stats', 'get', ['200', '400', '401', '429', '503']],
      ['/api/cache/clear', 'post', ['200', '400', '401', '413', '415', '429', '503']],
      ['/health', 'get', ['200', '503']],
    ];
    for (const [path, method, codes] of expected) {
      const op = doc.paths[path]?.[method];
      expect({ path, summary: typeof op?.summary, description: typeof op?.description }).toEqual({
        path,
        summary: 'string',
        description: 'string',
      });
      expect({ path, codes: Object.keys(op.responses).sort() }).toEqual({ path, codes });
    }
    expect(doc.paths['/api/cache/clear'].post.requestBody).toBeDefined();
  });

  it('puts the security headers on every response, errors included', async () => {
    const responses = await Promise.all([
      get('/health/live'),
      get('/metrics'),
      get('/docs'),
      get('/no/such/route'),
      get('/api/instances'),
      get('/api/instances', { 'X-API-Key': API_KEY }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 404, 401, 200]);
    for (const res of responses) {
      for (const h of SECURITY_HEADERS)
        expect({ url: res.url, [h]: res.headers.has(h) }).toEqual({ url: res.url, [h]: true });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      // Pages a browser renders get the policy their scripts and styles need; API answers load nothing.
      const page = new URL(res.url).pathname === '/docs';
      expect({ url: res.url, csp: res.headers.get('content-security-policy') }).toEqual({
        url: res.url,
        csp: page
          ? expect.stringContaining("script-src 'self'")
          : "default-src 'none';frame-ancestors 'none'",
      });
      if (!page)
        expect({ url: res.url, cache: res.headers.get('cache-control') }).toEqual({
          url: res.url,
          cache: 'no-store',
        });
    }
    // Read every body: an unread answer keeps its connection busy.
    await Promise.all(responses.map((r) => r.arrayBuffer()));
  });

  it('answers a CORS preflight from an allowed origin and not from another', async () => {
    const preflight = (origin: string) =>
      fetch(`${t.svc.url}/api/instances`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'x-api-key,content-type',
        },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-api-key');

    const denied = await preflight('https://evil.example.net');
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();

    const simple = await get('/api/instances', { Origin: ALLOWED_ORIGIN, 'X-API-Key': API_KEY });
    expect(simple.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(simple.headers.get('access-control-expose-headers')).toContain('X-Request-ID');
    // A route with an inline answer (infra/http/inline-answers.ts) leaves CORS requests to Fastify's path.
    const probe = await get('/health/live', { Origin: ALLOWED_ORIGIN });
    expect(probe.status).toBe(200);
    expect(probe.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    await Promise.all([allowed, denied, simple, probe].map((r) => r.arrayBuffer()));
  });
});
