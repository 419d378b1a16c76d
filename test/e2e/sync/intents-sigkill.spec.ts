import { RunningSimulator, startSimulator } from '../../../simulator';
import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { ServiceProcess, spawnService, startService, waitFor } from '../../support/service-process';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { FAST_TIMINGS, WEBHOOK_SECRET, httpRequest, serviceEnv } from '../instances/instances-e2e.harness';

/**
 * Write-ahead intents under SIGKILL: the service is killed while Novita holds (has applied but not
 * answered) or never receives a state-changing call; a new process on the same Redis settles it.
 */
describe('crash-safe intents (e2e, SIGKILL, Redis)', () => {
  let redis: RedisServerHandle;
  let sim: RunningSimulator;
  let receiver: WebhookReceiver;
  let env: Record<string, string>;
  let svc: ServiceProcess | undefined;
  const eventsOf = (type: string, instanceId: string) =>
    receiver.events.filter((e) => e.type === type && (e.payload as any).instanceId === instanceId);

  beforeAll(async () => {
    redis = await startRedisServer();
    sim = await startSimulator({ timings: FAST_TIMINGS, seed: 31 });
    receiver = await WebhookReceiver.start({ secret: WEBHOOK_SECRET });
    env = serviceEnv(sim, receiver, {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'e2e-intents',
      NOVITA_REQUEST_TIMEOUT_MS: '1000',
      NOVITA_MAX_RETRIES: '0',
    });
  }, 60_000);

  afterEach(async () => {
    await svc?.kill('SIGKILL');
    svc = undefined;
    sim.sim.clearFaults();
  });

  afterAll(async () => {
    await receiver?.stop();
    await sim?.close();
    await redis?.stop();
  });

  /** Starts the service and creates an instance; resolves with its id once it is ready. */
  async function startReadyInstance(name: string): Promise<string> {
    svc = await startService(env);
    const created = await httpRequest(svc.url, 'POST', '/api/instances', {
      name,
      productName: 'RTX 4090 24GB',
      templateId: '212',
    });
    const { instanceId } = created.body;
    await receiver.waitFor(
      (e) => e.type === 'instance.ready' && (e.payload as any).instanceId === instanceId,
      30_000,
    );
    return instanceId;
  }

  /** Sends a request and SIGKILLs the service once Novita has seen the call (the answer never comes). */
  async function killDuring(method: string, url: string, body: unknown, novitaPath: string, headers = {}) {
    svc = await startService(env);
    const seen = sim.sim.callLog({ path: novitaPath }).length;
    const pending = httpRequest(svc.url, method, url, body, headers).catch(() => null);
    await waitFor(async () => sim.sim.callLog({ path: novitaPath }).length > seen, 10_000, 20);
    await svc.kill('SIGKILL');
    await pending;
    svc = await startService(env);
  }

  it('adopts a create whose answer was lost into the original record; the key returns it; one create call', async () => {
    sim.sim.injectFaults({ holdResponse: { count: 1 }, paths: ['/gpu/instance/create'] });
    const body = { name: 'held-create', productName: 'RTX 4090 24GB', templateId: '212' };
    await killDuring('POST', '/api/instances', body, '/gpu/instance/create', { 'idempotency-key': 'k-held' });

    const created = await receiver.waitFor(
      (e) => e.type === 'instance.created' && (e.payload as any).data?.instance?.name === 'held-create',
      40_000,
    );
    const instanceId = (created.payload as any).instanceId;
    await receiver.waitFor(
      (e) => e.type === 'instance.ready' && (e.payload as any).instanceId === instanceId,
      30_000,
    );
    const retry = await httpRequest(svc!.url, 'POST', '/api/instances', body, {
      'idempotency-key': 'k-held',
    });
    expect(retry.status).toBe(201);
    expect(retry.body.instanceId).toBe(instanceId);
    expect(sim.sim.callLog({ path: '/gpu/instance/create' })).toHaveLength(1);
    expect(eventsOf('instance.created', instanceId)).toHaveLength(1);
  }, 120_000);

  it('fails a create that never reached Novita and frees its name', async () => {
    sim.sim.injectFaults({ hang: { count: 1 }, paths: ['/gpu/instance/create'] });
    const body = { name: 'lost-create', productName: 'RTX 4090 24GB', templateId: '212' };
    const before = sim.sim.listInstances().length;
    await killDuring('POST', '/api/instances', body, '/gpu/instance/create', { 'idempotency-key': 'k-lost' });
    await receiver.waitFor(
      (e) =>
        e.type === 'instance.creation_failed' && (e.payload as any).data?.instance?.name === 'lost-create',
      60_000,
    );
    expect(sim.sim.listInstances()).toHaveLength(before);
    const retry = await httpRequest(svc!.url, 'POST', '/api/instances', body, {
      'idempotency-key': 'k-lost',
    });
    expect(retry.status).toBe(503);
    const again = await httpRequest(svc!.url, 'POST', '/api/instances', body, {
      'idempotency-key': 'k-lost-2',
    });
    expect(again.status).toBe(201);
  }, 120_000);

  it('delivers the events a stop owed after a kill during the stop call, once each', async () => {
    const instanceId = await startReadyInstance('stop-me');
    await svc!.kill('SIGKILL');
    svc = undefined;

    sim.sim.injectFaults({ holdResponse: { count: 1 }, paths: ['/gpu/instance/stop'] });
    await killDuring('POST', `/api/instances/${instanceId}/stop`, undefined, '/gpu/instance/stop');
    await receiver.waitFor(
      (e) => e.type === 'instance.stopped' && (e.payload as any).instanceId === instanceId,
      40_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(eventsOf('instance.stopping', instanceId)).toHaveLength(1);
    expect(eventsOf('instance.stopped', instanceId)).toHaveLength(1);
    expect(sim.sim.callLog({ path: '/gpu/instance/stop' })).toHaveLength(1);
  }, 120_000);

  it('delivers the events a start owed after a kill during the start call, once each', async () => {
    const instanceId = await startReadyInstance('start-me');
    expect((await httpRequest(svc!.url, 'POST', `/api/instances/${instanceId}/stop`)).status).toBe(200);
    await receiver.waitFor(
      (e) => e.type === 'instance.stopped' && (e.payload as any).instanceId === instanceId,
      30_000,
    );
    await svc!.kill('SIGKILL');
    svc = undefined;

    sim.sim.injectFaults({ holdResponse: { count: 1 }, paths: ['/gpu/instance/start'] });
    await killDuring('POST', `/api/instances/${instanceId}/start`, undefined, '/gpu/instance/start');
    await receiver.waitFor(
      (e) => e.type === 'instance.ready' && eventsOf('instance.ready', instanceId).length === 2,
      40_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(eventsOf('instance.starting', instanceId)).toHaveLength(1);
    expect(eventsOf('instance.running', instanceId)).toHaveLength(2); // the create's and the start's
    expect(eventsOf('instance.ready', instanceId)).toHaveLength(2);
    expect(sim.sim.callLog({ path: '/gpu/instance/start' })).toHaveLength(1);
  }, 120_000);

  it('three replicas on one store walk Novita once at startup and send each event once', async () => {
    // Spot recovery's full pass walks the account on its own schedule; this test counts sync's walks.
    const env3 = { ...env, REDIS_KEY_PREFIX: 'e2e-replicas', MIGRATION_ENABLED: 'false' };
    sim.sim.seedInstances(3, { status: 'running' });
    sim.sim.clearCallLog();
    const replicas = [
      spawnService(env3, await freePortOf()),
      spawnService(env3, await freePortOf()),
      spawnService(env3, await freePortOf()),
    ];
    try {
      await Promise.all(
        replicas.map((r) =>
          waitFor(async () => (await fetch(`${r.url}/health/live`).catch(() => null))?.ok, 60_000),
        ),
      );
      await new Promise((r) => setTimeout(r, 3_000));
      const walks = sim.sim
        .callLog({ path: '/gpu/instances' })
        .filter((c) => !c.query.name && (c.query.pageNum ?? '1') === '1');
      expect(walks).toHaveLength(1);
    } finally {
      await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
    }
  }, 120_000);
});

async function freePortOf(): Promise<number> {
  const { freePort } = await import('../../support/service-process');
  return freePort();
}
