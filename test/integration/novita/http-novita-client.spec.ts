import { Logger } from '@nestjs/common';
import { startSimulator, RunningSimulator } from '../../../simulator';
import { AppError, ErrorCode } from '../../../src/common/errors';
import { buildTestClient } from './novita-test-client';

/** HttpNovitaClient against the in-process simulator: every port method, and error classification. */
describe('HttpNovitaClient (simulator contract)', () => {
  let server: RunningSimulator;
  const MISSING_ID = '00000000deadbeef';

  beforeAll(async () => {
    Logger.overrideLogger(false);
    server = await startSimulator({ seed: 7 });
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(() => server.sim.reset());

  describe('operations', () => {
    it('should list one page with filters and map the instances', async () => {
      server.sim.seedInstances(5, { name: 'alpha', status: 'running' });
      server.sim.seedInstances(3, { name: 'beta', status: 'exited' });
      const { client } = buildTestClient(server);

      const page = await client.listInstances(1, 2, { name: 'alpha', status: 'running' });

      expect(page.total).toBe(5);
      expect(page.instances).toHaveLength(2);
      for (const i of page.instances) {
        expect(i.name).toMatch(/^alpha-/);
        expect(i.status).toBe('running');
        expect(typeof i.gpuNum).toBe('number');
        expect(typeof i.cpuNum).toBe('number');
      }
      const [call] = server.sim.callLog({ path: '/gpu/instances' });
      expect(call.query).toEqual({ pageNum: '1', pageSize: '2', name: 'alpha', status: 'running' });
    });

    it('should get one instance with numbers, ports and the "0" reclaim time mapped', async () => {
      const seeded = server.sim.seedInstance({ status: 'running', ports: '8888/http,22/tcp' });
      const { client } = buildTestClient(server);

      const i = await client.getInstance(seeded.id);

      expect(i.id).toBe(seeded.id);
      expect(i.status).toBe('running');
      expect(i.gpuNum).toBe(1);
      expect(i.spotReclaimTime).toBeNull();
      expect(i.spotStatus).toBe('');
      expect(i.portMappings.map((p) => [p.port, p.type])).toEqual([
        [8888, 'http'],
        [22, 'tcp'],
      ]);
      expect(server.sim.callLog({ path: '/gpu/instance' })[0].query).toEqual({ instanceId: seeded.id });
    });

    it('should create with the ports string, envs and kind, and return the new id', async () => {
      const { client } = buildTestClient(server);
      const [product] = await client.listProducts({ productName: '4090', billingMethod: 'onDemand' });

      const { id } = await client.createInstance({
        name: 'created-1',
        productId: product.id,
        gpuNum: 1,
        rootfsSize: 60,
        imageUrl: 'ghcr.io/org/app:1',
        ports: [
          { port: 8888, type: 'http' },
          { port: 22, type: 'tcp' },
        ],
        envs: [{ key: 'MODE', value: 'train' }],
      });

      expect(id).toMatch(/^[0-9a-f]{16}$/);
      const [call] = server.sim.callLog({ path: '/gpu/instance/create' });
      expect(call.body).toEqual({
        name: 'created-1',
        productId: product.id,
        gpuNum: 1,
        rootfsSize: 60,
        imageUrl: 'ghcr.io/org/app:1',
        kind: 'gpu',
        ports: '8888/http,22/tcp',
        envs: [{ key: 'MODE', value: 'train' }],
      });
      expect((await client.getInstance(id)).name).toBe('created-1');
    });

    it('should send start, stop, restart and delete as POSTs with {instanceId}', async () => {
      const exited = server.sim.seedInstance({ status: 'exited' });
      const running = server.sim.seedInstance({ status: 'running' });
      const running2 = server.sim.seedInstance({ status: 'running' });
      const doomed = server.sim.seedInstance({ status: 'running' });
      const { client } = buildTestClient(server);

      await client.startInstance(exited.id);
      await client.stopInstance(running.id);
      await client.restartInstance(running2.id);
      await client.deleteInstance(doomed.id);

      const posts = server.sim.callLog({ method: 'POST' }).map((c) => [c.path, c.body, c.status]);
      expect(posts).toEqual([
        ['/gpu/instance/start', { instanceId: exited.id }, 200],
        ['/gpu/instance/stop', { instanceId: running.id }, 200],
        ['/gpu/instance/restart', { instanceId: running2.id }, 200],
        ['/gpu/instance/delete', { instanceId: doomed.id }, 200],
      ]);
      expect(['toStop', 'stopping', 'exited']).toContain((await client.getInstance(running.id)).status);
    });

    it('should migrate a reclaimed spot instance and see its job in listJobs', async () => {
      const reclaimed = server.sim.seedInstance({
        status: 'exited',
        billingMode: 'spot',
        spotReclaimAt: server.sim.now() - 60_000,
      });
      const { client } = buildTestClient(server);
      const before = await client.getInstance(reclaimed.id);
      expect(before.spotReclaimTime).not.toBeNull();

      await client.migrateInstance(reclaimed.id);
      const { jobs, total } = await client.listJobs({ type: 'instanceMigrate' });

      expect(total).toBe(1);
      expect(jobs[0]).toMatchObject({ type: 'instanceMigrate', instanceId: reclaimed.id });
      expect(jobs[0].id).not.toBe('');
      expect(typeof jobs[0].createdAt).toBe('number');
    });

    it('should list products in dollars and send billingMethod explicitly', async () => {
      const { client } = buildTestClient(server);

      const spot = await client.listProducts({ billingMethod: 'spot', gpuNum: 1 });

      expect(spot.length).toBeGreaterThan(0);
      for (const p of spot) {
        expect(p.billingMethods).toContain('spot');
        expect(p.spotPrice).not.toBeNull();
        // Dollars per hour, not 1/100,000 units.
        expect(p.onDemandPrice).toBeGreaterThan(0);
        expect(p.onDemandPrice).toBeLessThan(50);
      }
      expect(server.sim.callLog({ path: '/products' })[0].query).toEqual({
        billingMethod: 'spot',
        gpuNum: '1',
      });
    });

    it('should list clusters, get a template with flattened ports, and list registry auths', async () => {
      const { client } = buildTestClient(server);

      const clusters = await client.listClusters();
      const template = await client.getTemplate('212');
      const auths = await client.listRegistryAuths();

      expect(clusters.length).toBeGreaterThan(0);
      expect(clusters[0].availableGpuTypes.length).toBeGreaterThan(0);
      expect(template.id).toBe('212');
      expect(template.imageUrl).not.toBe('');
      expect(template.ports.length).toBeGreaterThan(0);
      for (const p of template.ports) {
        expect(typeof p.port).toBe('number');
        expect(['http', 'tcp']).toContain(p.type);
      }
      expect(Array.isArray(auths)).toBe(true);
    });

    it('should report the last success in health()', async () => {
      const { client } = buildTestClient(server);
      expect(client.health()).toEqual({ circuit: 'closed', lastSuccessAt: null, lastError: null });

      await client.listClusters();

      expect(client.health().lastSuccessAt).toEqual(expect.any(Number));
    });
  });

  describe('error classification', () => {
    it('should map 404 to NOT_FOUND without retrying, and not trip the breaker', async () => {
      const { client, config } = buildTestClient(server, { breakerThreshold: 2 });

      for (let i = 0; i < config.breakerThreshold + 2; i++) {
        await expect(client.getInstance(MISSING_ID)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
      }

      expect(server.sim.callLog({ path: '/gpu/instance' })).toHaveLength(config.breakerThreshold + 2);
      expect(client.health().circuit).toBe('closed');
    });

    it('should map a 400 "not found" (docs-style simulator) and a missing template to NOT_FOUND', async () => {
      const docsStyle = await startSimulator({ notFoundStatus: 400 });
      try {
        const { client } = buildTestClient(docsStyle);
        await expect(client.getInstance(MISSING_ID)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
        await expect(client.stopInstance(MISSING_ID)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
        await expect(client.getTemplate('no-such-template')).rejects.toMatchObject({
          code: ErrorCode.NOT_FOUND,
          details: expect.objectContaining({ upstreamStatus: 400, reason: 'TEMPLATE_NOT_FOUND' }),
        });
      } finally {
        await docsStyle.close();
      }
    });

    it('should map a wrong API key to UNAUTHORIZED_UPSTREAM, once, without leaking the key', async () => {
      const wrongKey = 'sk_wrong_key_123';
      const { client } = buildTestClient({ ...server, apiKey: wrongKey });

      const err = await client.listClusters().catch((e: unknown) => e);

      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe(ErrorCode.UNAUTHORIZED_UPSTREAM);
      expect(JSON.stringify((err as AppError).details)).not.toContain(wrongKey);
      expect(String((err as AppError).cause)).not.toContain(wrongKey);
      expect(server.sim.callLog({ path: '/clusters' })).toHaveLength(1);
      expect(client.health().circuit).toBe('closed');
    });

    it('should map "invalid state change" to INVALID_STATE with Novita message in details', async () => {
      const running = server.sim.seedInstance({ status: 'running' });
      const { client } = buildTestClient(server);

      await expect(client.startInstance(running.id)).rejects.toMatchObject({
        code: ErrorCode.INVALID_STATE,
        details: expect.objectContaining({
          novitaMessage: 'invalid state change',
          operation: 'startInstance',
        }),
      });
      expect(server.sim.callLog({ path: '/gpu/instance/start' })).toHaveLength(1);
    });

    it('should map INSUFFICIENT_RESOURCE on create and MIGRATE_INSUFFICIENT_RESOURCE on migrate', async () => {
      const { client } = buildTestClient(server);
      const [product] = await client.listProducts({ productName: 'H100', billingMethod: 'onDemand' });
      server.sim.setCapacity(undefined, product.name, 0);
      const reclaimed = server.sim.seedInstance({
        status: 'exited',
        productId: product.id,
        billingMode: 'spot',
        spotReclaimAt: server.sim.now() - 1000,
        consumeCapacity: false,
      });

      await expect(
        client.createInstance({ productId: product.id, gpuNum: 1, rootfsSize: 50, imageUrl: 'img' }),
      ).rejects.toMatchObject({
        code: ErrorCode.INSUFFICIENT_RESOURCES,
        details: expect.objectContaining({ reason: 'INSUFFICIENT_RESOURCE' }),
      });
      await expect(client.migrateInstance(reclaimed.id)).rejects.toMatchObject({
        code: ErrorCode.INSUFFICIENT_RESOURCES,
        details: expect.objectContaining({ reason: 'MIGRATE_INSUFFICIENT_RESOURCE' }),
      });
    });

    it('should map any other 4xx to UPSTREAM_BAD_REQUEST', async () => {
      const { client } = buildTestClient(server);
      await expect(
        client.createInstance({ productId: 'x', gpuNum: 9, rootfsSize: 50, imageUrl: 'img' }),
      ).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_BAD_REQUEST,
        details: expect.objectContaining({ reason: 'VALIDATOR_PARAM' }),
      });
    });
  });
});
