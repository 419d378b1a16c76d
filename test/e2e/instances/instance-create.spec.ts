import { InstancesE2e, startInstancesE2e } from './instances-e2e.harness';

const base = { productName: 'RTX 4090 24GB', templateId: '212' };

describe('instance creation (e2e)', () => {
  let t: InstancesE2e;

  beforeAll(async () => {
    t = await startInstancesE2e();
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(() => {
    t.sim.sim.clearCallLog();
  });

  it('five concurrent creates with one Idempotency-Key make exactly one Novita create call', async () => {
    const body = { ...base, name: 'idem-1' };
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        t.request('POST', '/api/instances', body, { 'Idempotency-Key': 'idem-key-1' }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.instanceId)).size).toBe(1);
    expect(results.every((r) => JSON.stringify(r.body) === JSON.stringify(results[0].body))).toBe(true);
    expect(t.sim.sim.callLog({ method: 'POST', path: '/gpu/instance/create' })).toHaveLength(1);

    // A retry later returns the first result, still without a second create.
    const retry = await t.request('POST', '/api/instances', body, { 'Idempotency-Key': 'idem-key-1' });
    expect(retry).toEqual({ status: 201, body: results[0].body });
    expect(t.sim.sim.callLog({ method: 'POST', path: '/gpu/instance/create' })).toHaveLength(1);

    // Same key, different body: 409.
    const other = await t.request(
      'POST',
      '/api/instances',
      { ...body, gpuNum: 2 },
      { 'Idempotency-Key': 'idem-key-1' },
    );
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'IDEMPOTENCY_KEY_REUSED' },
    });
  }, 30_000);

  it('falls back to the next region when the preferred one has no capacity, and names both', async () => {
    t.sim.sim.setCapacity('as-sgp-2', 'RTX 4090 24GB', 0);
    try {
      const res = await t.request('POST', '/api/instances', {
        ...base,
        name: 'fallback-1',
        region: 'AS-SGP-02',
        billingMode: 'onDemand',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        region: 'CN-HK-01',
        productId: 'rtx4090-24gb-cn-hk-1',
        billingMode: 'onDemand',
        price: 0.34,
        regionAttempts: [
          { region: 'AS-SGP-02', outcome: 'skipped', reason: expect.stringContaining('no capacity') },
          { region: 'CN-HK-01', outcome: 'used' },
        ],
      });
      const create = t.sim.sim.callLog({ method: 'POST', path: '/gpu/instance/create' });
      expect(create.map((c) => (c.body as any).clusterId)).toEqual(['cn-hk-1']);
    } finally {
      t.sim.sim.setCapacity('as-sgp-2', 'RTX 4090 24GB', 16);
    }
  });

  it('answers 503 with the reason per region when no region has capacity, and creates nothing', async () => {
    t.sim.sim.setCapacity(undefined, 'RTX 4090 24GB', 0);
    try {
      const res = await t.request('POST', '/api/instances', { ...base, name: 'nocap-1' });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('INSUFFICIENT_RESOURCES');
      expect(res.body.error.details.regionAttempts.map((a: any) => [a.region, a.outcome])).toEqual([
        ['AS-SGP-02', 'skipped'],
        ['CN-HK-01', 'skipped'],
        ['US-CA-06', 'skipped'],
      ]);
      expect(t.sim.sim.callLog({ method: 'POST', path: '/gpu/instance/create' })).toHaveLength(0);
      expect((await t.request('GET', '/api/instances?name=nocap-1')).body.total).toBe(0);
    } finally {
      t.sim.sim.setCapacity(undefined, 'RTX 4090 24GB', 16);
    }
  });

  it('refuses a taken name with 409', async () => {
    expect((await t.request('POST', '/api/instances', { ...base, name: 'taken-1' })).status).toBe(201);
    const again = await t.request('POST', '/api/instances', { ...base, name: 'taken-1' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('NAME_TAKEN');
  });

  it("resolves a private template's registry auth into inline credentials", async () => {
    const res = await t.request('POST', '/api/instances', {
      productName: 'RTX 4090 24GB',
      templateId: '305',
      name: 'private-1',
      billingMode: 'onDemand',
    });
    expect(res.status).toBe(201);
    const [call] = t.sim.sim.callLog({ method: 'POST', path: '/gpu/instance/create' });
    expect(call.body).toMatchObject({
      imageUrl: 'registry.sim.local/team/vllm:0.6',
      imageAuth: 'sim-bot:sim-registry-secret',
      ports: '8000/http',
    });
    expect(
      JSON.stringify((await t.request('GET', `/api/instances/${res.body.instanceId}`)).body),
    ).not.toContain('sim-registry-secret');
  });

  it('answers 404 for an unknown template', async () => {
    const res = await t.request('POST', '/api/instances', { ...base, templateId: '999', name: 'tpl-404' });
    expect(res.status).toBe(404);
  });

  describe('validation', () => {
    const fieldsOf = (res: { body: any }): string[] =>
      res.body.error.details.fields.map((f: { field: string }) => f.field).sort();

    it.each([
      ['no name', { ...base }, ['name']],
      ['gpuNum 0', { ...base, name: 'v', gpuNum: 0 }, ['gpuNum']],
      ['gpuNum 9', { ...base, name: 'v', gpuNum: 9 }, ['gpuNum']],
      ['unknown billingMode', { ...base, name: 'v', billingMode: 'hourly' }, ['billingMode']],
      ['extra field', { ...base, name: 'v', colour: 'red' }, ['colour']],
      [
        'wrong types',
        { name: 42, productName: 'x', templateId: true, gpuNum: '2' },
        ['gpuNum', 'name', 'templateId'],
      ],
      ['bad name characters', { ...base, name: 'a b' }, ['name']],
      ['neither template nor image', { productName: 'x', name: 'v' }, ['templateId']],
      ['webhookUrl not http(s)', { ...base, name: 'v', webhookUrl: 'ftp://x.example' }, ['webhookUrl']],
      [
        'nested healthCheck',
        { ...base, name: 'v', healthCheck: { port: 70000, path: 'no-slash' } },
        ['healthCheck.path', 'healthCheck.port'],
      ],
    ])('rejects %s with 400 listing each field', async (_label, body, fields) => {
      const res = await t.request('POST', '/api/instances', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(fieldsOf(res)).toEqual(fields);
    });

    it('lists several bad fields at once', async () => {
      const res = await t.request('POST', '/api/instances', { gpuNum: 0, billingMode: 'x', extra: 1 });
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(
        expect.arrayContaining(['name', 'productName', 'gpuNum', 'billingMode', 'extra']),
      );
    });
  });
});
