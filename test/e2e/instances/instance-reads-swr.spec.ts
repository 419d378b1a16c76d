import { AutoStopE2e, sleep, startAutoStopE2e } from '../auto-stop/auto-stop.e2e.harness';
import { API_KEY } from './instances-e2e.harness';

/**
 * GET /api/instances/:id with a staleness window (stale-while-revalidate), on two replicas sharing
 * one redis-server. A record is made stale by clearing the `observed-status` cache on both replicas
 * (the window is long, so nothing else makes it stale during the test).
 */
describe('instance reads: stale-while-revalidate and single flight (e2e, two replicas on Redis)', () => {
  let t: AutoStopE2e;

  beforeAll(async () => {
    t = await startAutoStopE2e(
      {
        INSTANCE_CACHE_STALE_MS: '600000',
        SYNC_ENABLE_AUTOMATIC_SYNC: 'false',
        // A held answer times out soon, so shutdown (which lets refreshes finish) is not held up.
        NOVITA_REQUEST_TIMEOUT_MS: '1500',
        // Large enough that each replica reserves hits in chunks (10) and spends them without a store
        // call; one window for the whole file, so the budget test below never sees it roll over.
        RATE_LIMIT_MAX_REQUESTS: '200',
        RATE_LIMIT_WINDOW_MS: '3600000',
      },
      31,
    );
    await Promise.all([t.start(), t.start()]);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  const getCalls = (novitaId: string) =>
    t.sim.sim
      .callLog({ method: 'GET', path: '/gpu/instance' })
      .filter((c) => c.path === '/gpu/instance' && c.query.instanceId === novitaId);

  async function makeStale(): Promise<void> {
    // Calls made while the create settled are over before the count starts.
    await sleep(300);
    for (const replica of [0, 1])
      expect(
        (await t.request('POST', '/api/cache/clear', { caches: ['observed-status'] }, replica)).status,
      ).toBe(200);
  }

  async function waitForCalls(novitaId: string, n: number): Promise<void> {
    for (let i = 0; i < 200 && getCalls(novitaId).length < n; i++) await sleep(50);
  }

  it('ten concurrent readers of a stale record on one replica cause one Novita call', async () => {
    const x = await t.createReady('swr-one');
    await makeStale();
    const before = getCalls(x.novitaInstanceId).length;

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => t.request('GET', `/api/instances/${x.instanceId}`, undefined, 0)),
    );
    // Served from the store at once; readers arriving after the refresh landed see it fresh.
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ instanceId: x.instanceId, ageMs: expect.any(Number) });
    }
    expect(answers.some((a) => a.body.stale === true)).toBe(true);
    await waitForCalls(x.novitaInstanceId, before + 1);
    await sleep(500);
    expect(getCalls(x.novitaInstanceId).length).toBe(before + 1);
    // The refresh landed: the next read is fresh.
    const next = await t.request('GET', `/api/instances/${x.instanceId}`, undefined, 0);
    expect(next.body).toMatchObject({ stale: false });
  }, 60_000);

  it('ten concurrent readers spread over two replicas cause one Novita call', async () => {
    const x = await t.createReady('swr-two');
    await makeStale();
    const before = getCalls(x.novitaInstanceId).length;

    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.request('GET', `/api/instances/${x.instanceId}`, undefined, i % 2),
      ),
    );
    for (const a of answers) expect(a.body).toMatchObject({ instanceId: x.instanceId });
    expect(answers.some((a) => a.body.stale === true)).toBe(true);
    await waitForCalls(x.novitaInstanceId, before + 1);
    await sleep(500);
    expect(getCalls(x.novitaInstanceId).length).toBe(before + 1);
  }, 60_000);

  it('answers a stale record while Novita holds its answer', async () => {
    const x = await t.createReady('swr-held');
    const recorded = (await t.request('GET', `/api/instances/${x.instanceId}`)).body;
    await makeStale();
    const before = getCalls(x.novitaInstanceId).length;
    t.sim.sim.injectFaults({ holdResponse: true, paths: ['/gpu/instance'] });
    try {
      const res = await t.request('GET', `/api/instances/${x.instanceId}`, undefined, 1);
      // Answered before Novita's client gave up on the held call: a read that waited for Novita would
      // answer only after the timed-out attempt and its retry (NOVITA_MAX_RETRIES=1), two calls.
      expect(getCalls(x.novitaInstanceId).length - before).toBeLessThanOrEqual(1);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        instanceId: x.instanceId,
        status: recorded.status,
        lastSyncedAt: recorded.lastSyncedAt,
        stale: true,
      });
      // The refresh reached Novita, which has not answered it.
      await waitForCalls(x.novitaInstanceId, before + 1);
      expect(getCalls(x.novitaInstanceId)[before]).toMatchObject({ status: 0 });
    } finally {
      t.sim.sim.clearFaults();
    }
  }, 60_000);

  /**
   * A fresh record is answered before Fastify and Nest (infra/http/inline-answers.ts). These hold
   * whichever path answers: the key is still required, every answer is counted against the rate
   * limit, and the answer carries the same headers as one Nest gives (a stale read, which Nest serves).
   */
  describe('fresh reads served before Fastify and Nest', () => {
    const get = (path: string, key: string | null = API_KEY) =>
      fetch(`${t.replicas[0].url}${path}`, { headers: key ? { 'x-api-key': key } : {} }).then(async (r) => {
        const headers: Record<string, string> = {};
        r.headers.forEach((value, name) => (headers[name] = value));
        return { status: r.status, headers, body: (await r.json()) as any };
      });
    const VARYING = new Set([
      'x-request-id',
      'date',
      'content-length',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
    ]);
    const steady = (headers: Record<string, string>) =>
      Object.fromEntries(Object.entries(headers).filter(([name]) => !VARYING.has(name)));

    it('needs the key, and answers with the headers and body a read through Nest gives', async () => {
      const x = await t.createReady('inline-same');
      // Held by this replica and fresh (a create observes the instance).
      const fresh = await get(`/api/instances/${x.instanceId}`);
      const again = await get(`/api/instances/${x.novitaInstanceId}`);
      expect(fresh.body.stale).toBe(false);
      expect(again.body).toEqual({ ...fresh.body, ageMs: again.body.ageMs });

      expect((await get(`/api/instances/${x.instanceId}`, null)).status).toBe(401);
      expect((await get(`/api/instances/${x.instanceId}`, 'wrong-key')).body.error.code).toBe('UNAUTHORIZED');

      await makeStale();
      const throughNest = await get(`/api/instances/${x.instanceId}`);
      expect(throughNest.body.stale).toBe(true);
      expect(steady(fresh.headers)).toEqual(steady(throughNest.headers));
      expect(fresh.headers['x-ratelimit-limit']).toBe('200');
      const { stale: _a, ageMs: _b, ...record } = throughNest.body;
      expect(fresh.body).toMatchObject(record);
    }, 60_000);

    it('counts every answer against the rate limit: the budget runs out exactly, then 429', async () => {
      const x = await t.createReady('inline-budget');
      const path = `/api/instances/${x.instanceId}`;
      const first = await get(path);
      let remaining = Number(first.headers['x-ratelimit-remaining']);
      expect(first.status).toBe(200);
      while (remaining > 0) {
        const res = await get(path);
        expect(res.status).toBe(200);
        expect(Number(res.headers['x-ratelimit-remaining'])).toBe(remaining - 1);
        remaining--;
      }
      const refused = await get(path);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('RATE_LIMITED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // The budget is per endpoint: the list still answers.
      expect((await get('/api/instances?limit=1')).status).toBe(200);
    }, 60_000);
  });
});
