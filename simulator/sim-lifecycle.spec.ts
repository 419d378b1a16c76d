import { RunningSimulator, seedDemo, startSimulator } from './index';
import { createBody, simFetcher } from './sim-test-client';

describe('simulator lifecycle (manual clock)', () => {
  let running: RunningSimulator;
  let call: ReturnType<typeof simFetcher>;
  const PRODUCT = 'rtx4090-24gb-as-sgp-2';

  async function start(opts: Parameters<typeof startSimulator>[0] = {}): Promise<void> {
    running = await startSimulator({ manualClock: true, seed: 3, ...opts });
    call = simFetcher(running);
  }
  const statusOf = async (id: string): Promise<string> =>
    (await call('GET', `/gpu/instance?instanceId=${id}`)).body.status;
  const capacityOf = (productId: string): number =>
    running.sim.capacity().find((c) => c.productId === productId)!.gpus;

  afterEach(() => running.close());

  it('create walks toCreate → creating → pulling → running on the clock, taking GPUs', async () => {
    await start();
    const before = capacityOf(PRODUCT);
    const res = await call('POST', '/gpu/instance/create', createBody(PRODUCT, { gpuNum: 2 }));
    expect(res.status).toBe(200);
    expect(res.body.id).toMatch(/^[0-9a-f]{16}$/);
    const id = res.body.id;
    expect(capacityOf(PRODUCT)).toBe(before - 2);
    const seen = [await statusOf(id)];
    for (const ms of [1_000, 2_000, 3_000]) {
      running.sim.advance(ms);
      seen.push(await statusOf(id));
    }
    expect(seen).toEqual(['toCreate', 'creating', 'pulling', 'running']);
    const inst = (await call('GET', `/gpu/instance?instanceId=${id}`)).body;
    expect(inst.gpuNum).toBe('2');
    expect(inst.cpuNum).toBe('32');
    expect(inst.startedAt).toBe(String(Math.floor(running.sim.now() / 1000)));
    expect(inst.portMappings).toEqual([
      { port: 8080, type: 'http', endpoint: expect.stringContaining(`/i/${id}/8080`) },
      { port: 22, type: 'tcp', endpoint: expect.stringMatching(/^127\.0\.0\.1:\d+$/) },
    ]);
  });

  it('an optional pending phase comes first when configured', async () => {
    await start({ timings: { pending: 500 } });
    const { body } = await call('POST', '/gpu/instance/create', createBody(PRODUCT));
    expect(await statusOf(body.id)).toBe('pending');
    running.sim.advance(500);
    expect(await statusOf(body.id)).toBe('toCreate');
  });

  it('stop → exited releases GPUs; start → running takes them again', async () => {
    await start();
    const inst = running.sim.seedInstance({ status: 'running', productId: PRODUCT });
    const held = capacityOf(PRODUCT);
    expect((await call('POST', '/gpu/instance/stop', { instanceId: inst.id })).body.state).toBe('toStop');
    expect(capacityOf(PRODUCT)).toBe(held + 1);
    running.sim.advance(500);
    expect(await statusOf(inst.id)).toBe('stopping');
    running.sim.advance(1_500);
    expect(await statusOf(inst.id)).toBe('exited');
    expect((await call('POST', '/gpu/instance/start', { instanceId: inst.id })).body).toEqual({
      instanceId: inst.id,
      state: 'toStart',
    });
    expect(capacityOf(PRODUCT)).toBe(held);
    running.sim.advance(500);
    expect(await statusOf(inst.id)).toBe('starting');
    running.sim.advance(1_500);
    expect(await statusOf(inst.id)).toBe('running');
  });

  it('restart goes through toRestart and restarting', async () => {
    await start();
    const inst = running.sim.seedInstance({ status: 'running' });
    await call('POST', '/gpu/instance/restart', { instanceId: inst.id });
    expect(await statusOf(inst.id)).toBe('toRestart');
    running.sim.advance(500);
    expect(await statusOf(inst.id)).toBe('restarting');
    running.sim.advance(1_500);
    expect(await statusOf(inst.id)).toBe('running');
  });

  it('delete → removed → 404, and the list drops it after the TTL', async () => {
    await start({ timings: { removedListTtl: 10_000 } });
    const inst = running.sim.seedInstance({ status: 'running' });
    await call('POST', '/gpu/instance/delete', { instanceId: inst.id });
    expect(await statusOf(inst.id)).toBe('toRemove');
    running.sim.advance(500);
    expect(await statusOf(inst.id)).toBe('removing');
    running.sim.advance(1_000);
    const gone = await call('GET', `/gpu/instance?instanceId=${inst.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({
      code: 404,
      reason: 'RESOURCE_NOT_FOUND',
      message: 'instance not found',
    });
    expect((await call('GET', '/gpu/instances')).body.instances.map((i: any) => i.status)).toEqual([
      'removed',
    ]);
    expect((await call('POST', '/gpu/instance/delete', { instanceId: inst.id })).status).toBe(404);
    running.sim.advance(10_000);
    expect((await call('GET', '/gpu/instances')).body).toEqual({ instances: [], total: 0 });
  });

  it('a missing instance can be configured to answer 400 "instance not found"', async () => {
    await start({ notFoundStatus: 400 });
    const res = await call('GET', '/gpu/instance?instanceId=ffffffffffffffff');
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('instance not found');
  });

  it.each([
    ['start', 'running'],
    ['stop', 'exited'],
    ['restart', 'exited'],
    ['migrate', 'running'],
    ['start', 'creating'],
  ])('%s from %s is 400 "invalid state change"', async (op, status) => {
    await start();
    const inst = running.sim.seedInstance({ status });
    const res = await call('POST', `/gpu/instance/${op}`, { instanceId: inst.id });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 400,
      reason: 'INVALID_STATE_CHANGE',
      message: 'invalid state change',
      metadata: {},
    });
    expect(await statusOf(inst.id)).toBe(status);
  });

  it('refuses to delete a monthly instance', async () => {
    await start();
    const { body } = await call('POST', '/gpu/instance/create', createBody(PRODUCT, { month: 1 }));
    const res = await call('POST', '/gpu/instance/delete', { instanceId: body.id });
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('PREPAID_INSTANCE_NOT_SUPPORT_RELEASE');
  });

  it('spot reclaim: notified → reclaiming → exited/terminated, then start is INSUFFICIENT_RESOURCE', async () => {
    await start({ timings: { spotNotice: 30_000, spotReclaiming: 5_000 } });
    const inst = running.sim.seedInstance({ status: 'running', billingMode: 'spot' });
    expect(inst.spotStatus).toBe('running');
    expect(inst.spotReclaimTime).toBe('0');
    running.sim.reclaimSpot(inst.id);
    const reclaimAt = String(Math.floor((running.sim.now() + 35_000) / 1000));
    expect(running.sim.getInstance(inst.id)).toMatchObject({
      status: 'running',
      spotStatus: 'notified',
      spotReclaimTime: reclaimAt,
    });
    running.sim.advance(30_000);
    expect(running.sim.getInstance(inst.id)).toMatchObject({ status: 'running', spotStatus: 'reclaiming' });
    running.sim.advance(5_000);
    const after = (await call('GET', `/gpu/instance?instanceId=${inst.id}`)).body;
    expect(after).toMatchObject({ status: 'exited', spotStatus: 'terminated', spotReclaimTime: reclaimAt });
    const startRes = await call('POST', '/gpu/instance/start', { instanceId: inst.id });
    expect(startRes.status).toBe(400);
    expect(startRes.body.reason).toBe('INSUFFICIENT_RESOURCE');
    running.sim.setStartAfterReclaim('allow');
    expect((await call('POST', '/gpu/instance/start', { instanceId: inst.id })).status).toBe(200);
  });

  it('migration success: migrating with a running job, then running on another node', async () => {
    await start();
    const inst = running.sim.seedInstance({
      status: 'exited',
      billingMode: 'spot',
      spotReclaimAt: running.sim.now() - 60_000,
    });
    const nodeBefore = (inst.node as { id: string }).id;
    expect((await call('POST', '/gpu/instance/migrate', { instanceId: inst.id })).status).toBe(200);
    const migrating = (await call('GET', `/gpu/instance?instanceId=${inst.id}`)).body;
    expect(migrating.status).toBe('migrating');
    expect(migrating.jobs).toEqual([{ id: expect.any(String), type: 'instanceMigrate' }]);
    const jobs = (await call('GET', '/jobs?type=instanceMigrate')).body;
    expect(jobs.total).toBe(1);
    expect(jobs.jobs[0]).toMatchObject({
      Id: migrating.jobs[0].id,
      instanceId: inst.id,
      state: { state: 'running' },
    });
    running.sim.advance(5_000);
    const done = (await call('GET', `/gpu/instance?instanceId=${inst.id}`)).body;
    expect(done).toMatchObject({ status: 'running', spotReclaimTime: '0', spotStatus: 'running' });
    expect(done.node.id).not.toBe(nodeBefore);
    expect((await call('GET', `/jobs?state=success`)).body.total).toBe(1);
  });

  it('migration failure: the job becomes fail and the instance stays migrating', async () => {
    await start();
    const inst = running.sim.seedInstance({ status: 'exited' });
    running.sim.failNextMigration(inst.id);
    await call('POST', '/gpu/instance/migrate', { instanceId: inst.id });
    running.sim.advance(60_000);
    expect(await statusOf(inst.id)).toBe('migrating');
    const jobs = (await call('GET', '/jobs')).body.jobs;
    expect(jobs).toHaveLength(1);
    expect(jobs[0].state.state).toBe('fail');
    expect((await call('POST', '/gpu/instance/start', { instanceId: inst.id })).status).toBe(400);
  });

  it('migrate without capacity is MIGRATE_INSUFFICIENT_RESOURCE', async () => {
    await start();
    const inst = running.sim.seedInstance({ status: 'exited', productId: PRODUCT });
    running.sim.setCapacity('AS-SGP-02', 'RTX 4090 24GB', 0);
    const res = await call('POST', '/gpu/instance/migrate', { instanceId: inst.id });
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('MIGRATE_INSUFFICIENT_RESOURCE');
  });

  it('capacity exhaustion: INSUFFICIENT_RESOURCE, availableDeploy false, and freed GPUs are usable again', async () => {
    await start();
    running.sim.setCapacity('as-sgp-2', 'RTX 4090 24GB', 1);
    const first = await call('POST', '/gpu/instance/create', createBody(PRODUCT));
    expect(first.status).toBe(200);
    const second = await call('POST', '/gpu/instance/create', createBody(PRODUCT));
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ code: 400, reason: 'INSUFFICIENT_RESOURCE' });
    const products = (await call('GET', '/products?clusterId=as-sgp-2&productName=4090')).body.data;
    expect(products).toEqual([
      expect.objectContaining({ id: PRODUCT, availableDeploy: false, inventoryState: 'none' }),
    ]);
    const other = (await call('GET', '/products?clusterId=cn-hk-1&productName=4090')).body.data;
    expect(other[0].availableDeploy).toBe(true);
    running.sim.advance(10_000);
    await call('POST', '/gpu/instance/stop', { instanceId: first.body.id });
    expect((await call('POST', '/gpu/instance/create', createBody(PRODUCT))).status).toBe(200);
  });

  it('rejects bad create bodies with VALIDATOR_PARAM and spot on a product without spot', async () => {
    await start();
    const bad = [
      createBody(PRODUCT, { ports: '2222/tcp' }),
      createBody(PRODUCT, { gpuNum: 9 }),
      createBody(PRODUCT, { kind: undefined }),
      createBody(PRODUCT, { ports: Array.from({ length: 16 }, (_, i) => `${8000 + i}/http`).join(',') }),
    ];
    for (const body of bad) {
      const res = await call('POST', '/gpu/instance/create', body);
      expect([res.status, res.body.reason]).toEqual([400, 'VALIDATOR_PARAM']);
    }
    const spot = await call(
      'POST',
      '/gpu/instance/create',
      createBody('h100-80gb-as-sgp-2', { billingMode: 'spot' }),
    );
    expect(spot.body.reason).toBe('UNSUPPORTED_BILLING_MODE');
  });

  it('products: regions are cluster names and prices differ per region', async () => {
    await start();
    const data = (await call('GET', '/products?productName=rtx%204090&billingMethod=spot')).body.data;
    expect(data.map((p: any) => p.regions[0]).sort()).toEqual([
      'AS-IN-01 (Mumbai)',
      'AS-SGP-02 (Singapore)',
      'CN-HK-01 (Hong Kong)',
      'EU-DE-01 (Frankfurt)',
      'US-CA-06 (California)',
    ]);
    expect(new Set(data.map((p: any) => p.price)).size).toBe(5);
    const clusters = (await call('GET', '/clusters')).body.data;
    expect(clusters.map((c: any) => c.name)).toEqual(
      expect.arrayContaining(data.map((p: any) => p.regions[0])),
    );
  });

  it('seedDemo seeds instances in several states, including spot ones', async () => {
    await start();
    const demo = seedDemo(running.sim);
    expect(new Set(demo.map((i) => i.status))).toEqual(new Set(['running', 'exited', 'creating']));
    expect(
      demo
        .filter((i) => i.billingMode === 'spot')
        .map((i) => i.spotStatus)
        .sort(),
    ).toEqual(['running', 'terminated']);
    expect((await call('GET', '/gpu/instances')).body.total).toBe(demo.length);
  });

  describe('pagination', () => {
    it('1,000 instances in 10 pages of 100, no duplicates, total 1000, pageNum 0 == 1', async () => {
      await start();
      running.sim.seedInstances(1_000, { status: 'exited' });
      const seen = new Set<string>();
      for (let page = 1; page <= 10; page++) {
        const res = await call('GET', `/gpu/instances?pageSize=100&pageNum=${page}`);
        expect(res.body.total).toBe(1_000);
        expect(res.body.instances).toHaveLength(100);
        for (const i of res.body.instances) seen.add(i.id);
      }
      expect(seen.size).toBe(1_000);
      expect((await call('GET', '/gpu/instances?pageSize=100&pageNum=11')).body.instances).toHaveLength(0);
      const zero = (await call('GET', '/gpu/instances?pageSize=100&pageNum=0')).body.instances.map(
        (i: any) => i.id,
      );
      const one = (await call('GET', '/gpu/instances?pageSize=100&pageNum=1')).body.instances.map(
        (i: any) => i.id,
      );
      expect(zero).toEqual(one);
      expect((await call('GET', '/gpu/instances')).body.instances).toHaveLength(1_000);
    });

    it('filters by name and productName substring and exact status, total counting matches', async () => {
      await start();
      running.sim.seedInstances(3, {
        name: 'alpha-web',
        status: 'running',
        productName: 'A100 80GB',
        clusterId: 'us-ca-6',
      });
      running.sim.seedInstances(2, { name: 'beta', status: 'exited' });
      const byName = (await call('GET', '/gpu/instances?name=ALPHA&pageSize=2&pageNum=1')).body;
      expect(byName.total).toBe(3);
      expect(byName.instances).toHaveLength(2);
      expect((await call('GET', '/gpu/instances?productName=a100')).body.total).toBe(3);
      expect((await call('GET', '/gpu/instances?status=exited')).body.total).toBe(2);
      expect((await call('GET', '/gpu/instances?status=exit')).body.total).toBe(0);
    });
  });
});
