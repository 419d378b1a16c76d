import { AutoStopE2e, sleep, startAutoStopE2e } from '../auto-stop/auto-stop.e2e.harness';

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
});
