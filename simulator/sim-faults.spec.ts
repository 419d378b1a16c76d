import { RunningSimulator, startSimulator } from './index';
import { simFetcher } from './sim-test-client';

describe('simulator faults, auth and the /__sim control API', () => {
  let running: RunningSimulator;
  let call: ReturnType<typeof simFetcher>;

  beforeEach(async () => {
    running = await startSimulator({ manualClock: true, seed: 11 });
    call = simFetcher(running);
  });
  afterEach(() => running.close());

  it('401 with an error body without a key, with a wrong key or a non-Bearer scheme', async () => {
    const none = await simFetcher(running, null)('GET', '/gpu/instances');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({
      code: 401,
      reason: 'UNAUTHORIZED',
      message: expect.any(String),
      metadata: {},
    });
    expect((await simFetcher(running, 'sk_other')('GET', '/products')).status).toBe(401);
    const basic = await fetch(`${running.baseUrl}/clusters`, {
      headers: { authorization: `Basic ${running.apiKey}` },
    });
    expect(basic.status).toBe(401);
    expect((await call('GET', '/clusters')).status).toBe(200);
  });

  it('429 burst: the next N requests get Retry-After, then service resumes', async () => {
    running.sim.injectFaults({ burst429: { count: 2, retryAfterSeconds: 3 } });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await call('GET', '/gpu/instances'));
    expect(results.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(results[0].headers.get('retry-after')).toBe('3');
    expect(results[0].body).toMatchObject({ code: 429, reason: 'RATE_LIMIT_EXCEEDED' });
    expect(results[2].headers.get('retry-after')).toBeNull();
    expect(running.sim.callLog({ path: '/gpu/instances' }).map((c) => c.status)).toEqual([429, 429, 200]);
  });

  it('error rate 1 fails every matching request with the configured status; other paths pass', async () => {
    running.sim.injectFaults({ errorRate: 1, errorStatus: 503, paths: ['/gpu/instances'] });
    const failed = await call('GET', '/gpu/instances');
    expect(failed.status).toBe(503);
    expect(failed.body.code).toBe(503);
    expect((await call('GET', '/products')).status).toBe(200);
    running.sim.clearFaults();
    expect((await call('GET', '/gpu/instances')).status).toBe(200);
  });

  it('a partial error rate is reproducible from the seed', async () => {
    const pattern = async (r: RunningSimulator): Promise<number[]> => {
      r.sim.injectFaults({ errorRate: 0.5 });
      const f = simFetcher(r);
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await f('GET', '/clusters')).status);
      return out;
    };
    const twin = await startSimulator({ manualClock: true, seed: 11 });
    try {
      const a = await pattern(running);
      const b = await pattern(twin);
      expect(a).toEqual(b);
      expect(a).toContain(500);
      expect(a).toContain(200);
    } finally {
      await twin.close();
    }
  });

  it('latency delays the answer', async () => {
    running.sim.injectFaults({ latencyMs: 250 });
    const t0 = Date.now();
    expect((await call('GET', '/clusters')).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
  });

  it('a hung request never answers until the client aborts it; the next one answers', async () => {
    running.sim.injectFaults({ hang: { count: 1 } });
    const ctrl = new AbortController();
    const hung = call('GET', '/gpu/instances', undefined, ctrl.signal);
    const outcome = await Promise.race([
      hung.then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((r) => setTimeout(() => r('pending'), 300)),
    ]);
    expect(outcome).toBe('pending');
    ctrl.abort();
    await expect(hung).rejects.toThrow(/abort/i);
    expect((await call('GET', '/gpu/instances')).status).toBe(200);
    expect(running.sim.callLog({ path: '/gpu/instances' }).map((c) => c.status)).toEqual([0, 200]);
  });

  it('a held request is carried out but never answered: the instance stops though the caller hears nothing', async () => {
    const [inst] = running.sim.seedInstances(1, { status: 'running' });
    running.sim.injectFaults({ holdResponse: { count: 1 }, paths: ['/gpu/instance/stop'] });
    const ctrl = new AbortController();
    const held = call('POST', '/gpu/instance/stop', { instanceId: inst.id }, ctrl.signal);
    const outcome = await Promise.race([
      held.then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((r) => setTimeout(() => r('pending'), 300)),
    ]);
    expect(outcome).toBe('pending');
    expect(running.sim.getInstance(inst.id)?.status).not.toBe('running');
    ctrl.abort();
    await expect(held).rejects.toThrow(/abort/i);
    expect(running.sim.callLog({ path: '/gpu/instance/stop' }).map((c) => c.status)).toEqual([0]);
  });

  it('close() ends hung requests instead of waiting for them', async () => {
    running.sim.injectFaults({ hang: true });
    const hung = call('GET', '/gpu/instances');
    await new Promise((r) => setTimeout(r, 50));
    await running.close();
    await expect(hung).rejects.toThrow();
  });

  describe('over HTTP', () => {
    const control = async (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const res = await fetch(`${running.url}/__sim${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };

    it('seeds, advances the clock, injects faults, reads and clears the call log', async () => {
      const seeded = await control('POST', '/seed', { n: 2, instance: { status: 'creating', name: 'ctl' } });
      expect(seeded.body.instances.map((i: any) => i.name)).toEqual(['ctl-1', 'ctl-2']);
      const id = seeded.body.instances[0].id;
      await control('POST', '/advance', { ms: 60_000 });
      expect((await call('GET', `/gpu/instance?instanceId=${id}`)).body.status).toBe('running');

      await control('POST', '/faults', { burst429: { count: 1, retryAfterSeconds: 1 } });
      expect((await call('GET', '/gpu/instances')).status).toBe(429);
      const calls = await control('GET', '/calls?status=429');
      expect(calls.body.calls).toEqual([
        { method: 'GET', path: '/gpu/instances', query: {}, body: null, status: 429, at: expect.any(Number) },
      ]);
      await control('DELETE', '/calls');
      expect((await control('GET', '/calls')).body.calls).toEqual([]);
    });

    it('sets capacity, app health and reclaims spot instances', async () => {
      await control('POST', '/capacity', { cluster: 'EU-DE-01', product: 'A100 80GB', gpus: 0 });
      const cap = (await control('GET', '/capacity')).body.capacity;
      expect(cap.find((c: any) => c.productId === 'a100-80gb-eu-de-1').gpus).toBe(0);
      const inst = running.sim.seedInstance({ status: 'running', billingMode: 'spot' });
      expect(
        (await control('POST', '/app-health', { instanceId: inst.id, health: 'unhealthy' })).status,
      ).toBe(200);
      const reclaimed = await control('POST', '/reclaim', { instanceId: inst.id });
      expect(reclaimed.body.instance).toMatchObject({ status: 'exited', spotStatus: 'terminated' });
      expect((await control('POST', '/reclaim', { instanceId: 'ffffffffffffffff' })).status).toBe(404);
    });

    it('requires the control token when one is configured', async () => {
      await running.close();
      running = await startSimulator({ manualClock: true, controlToken: 'ctl-secret' });
      expect((await control('GET', '/state')).status).toBe(401);
      const ok = await control('GET', '/state', undefined, { 'x-sim-token': 'ctl-secret' });
      expect(ok.status).toBe(200);
      expect(ok.body.speed).toBe(0);
    });
  });
});
