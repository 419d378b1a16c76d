import { InstancesE2e, startInstancesE2e } from './instances-e2e.harness';

// Novita failures reach callers as 502/503/504 in the envelope with a classified code, never 500 or 400.
describe('Novita failures as the caller sees them (e2e)', () => {
  let e2e: InstancesE2e;
  const createBody = {
    name: 'upstream-x',
    productName: 'RTX 4090',
    imageUrl: 'nginx:latest',
    billingMode: 'onDemand',
  };

  beforeAll(async () => {
    e2e = await startInstancesE2e({
      NOVITA_REQUEST_TIMEOUT_MS: '300',
      NOVITA_MAX_RETRIES: '0',
      NOVITA_CIRCUIT_BREAKER_THRESHOLD: '50',
    });
  }, 90_000);

  afterEach(() => e2e.sim.sim.clearFaults());

  afterAll(async () => {
    await e2e?.close();
  });

  it('turns a hung Novita call into 504 UPSTREAM_TIMEOUT', async () => {
    e2e.sim.sim.injectFaults({ hang: true });
    const res = await e2e.request('POST', '/api/instances', createBody);
    expect(res.status).toBe(504);
    expect(res.body.error).toMatchObject({ code: 'UPSTREAM_TIMEOUT', requestId: expect.any(String) });
  });

  it('turns Novita 5xx answers into 503 UPSTREAM_UNAVAILABLE', async () => {
    e2e.sim.sim.injectFaults({ errorRate: 1, errorStatus: 502 });
    const res = await e2e.request('POST', '/api/instances', { ...createBody, name: 'upstream-y' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('answers 503 INSUFFICIENT_RESOURCES with a reason per region when no region has capacity', async () => {
    e2e.sim.sim.setCapacity(undefined, 'RTX 4090 24GB', 0);
    const res = await e2e.request('POST', '/api/instances', { ...createBody, name: 'upstream-z' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('INSUFFICIENT_RESOURCES');
    const regions = res.body.error.details.regionAttempts.map((a: { region: string }) => a.region);
    expect(regions).toEqual(['AS-SGP-02', 'CN-HK-01', 'US-CA-06']);
    // Nothing half-created: the name is free again for a later attempt.
    e2e.sim.sim.setCapacity(undefined, 'RTX 4090 24GB', 4);
    const retry = await e2e.request('POST', '/api/instances', { ...createBody, name: 'upstream-z' });
    expect(retry.status).toBe(201);
  });

  it('reports Novita rejecting our key as 502 UNAUTHORIZED_UPSTREAM, not 401', async () => {
    const other = await startInstancesE2e({ NOVITA_API_KEY: 'sk_wrong_key' });
    try {
      const res = await other.request('POST', '/api/instances', createBody);
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('UNAUTHORIZED_UPSTREAM');
      expect(JSON.stringify(res.body)).not.toContain('sk_wrong_key');
    } finally {
      await other.close();
    }
  }, 90_000);
});
