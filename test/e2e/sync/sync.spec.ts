import { RunningSimulator, startSimulator } from '../../../simulator';
import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { ServiceProcess, startService, waitFor } from '../../support/service-process';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { FAST_TIMINGS, WEBHOOK_SECRET, httpRequest, serviceEnv } from '../instances/instances-e2e.harness';
import { redisSnapshot } from './redis-snapshot';

/** Calls Novita's own API on the simulator, as someone using Novita's console would. */
async function novitaCall(sim: RunningSimulator, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${sim.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.status;
}

describe('sync with Novita (e2e, Redis)', () => {
  let redis: RedisServerHandle;
  let sim: RunningSimulator;
  let receiver: WebhookReceiver;
  let svc: ServiceProcess;
  const req = (method: string, url: string, body?: unknown) => httpRequest(svc.url, method, url, body);
  const eventsOf = (type: string, instanceId: string) =>
    receiver.events.filter((e) => e.type === type && (e.payload as any).instanceId === instanceId);

  beforeAll(async () => {
    redis = await startRedisServer();
    sim = await startSimulator({ timings: FAST_TIMINGS, seed: 21 });
    sim.sim.seedInstances(6, { status: 'running' });
    receiver = await WebhookReceiver.start({ secret: WEBHOOK_SECRET });
    svc = await startService(
      serviceEnv(sim, receiver, {
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: 'e2e-sync',
        SYNC_ENABLE_AUTOMATIC_SYNC: 'true',
      }),
    );
  }, 90_000);

  afterAll(async () => {
    await svc?.kill('SIGKILL');
    await receiver?.stop();
    await sim?.close();
    await redis?.stop();
  });

  it('adopts every instance it did not create as unmanaged at startup; they can be stopped by name and id, and adopted', async () => {
    const listed = await waitFor(async () => {
      const res = await req('GET', '/api/instances?managed=false');
      return res.body.total === 6 ? res.body : undefined;
    }, 20_000);
    expect(listed.instances.every((i: any) => i.managed === false && i.status === 'running')).toBe(true);
    expect((await req('GET', '/api/instances?managed=true')).body.total).toBe(0);

    const [a, b, c] = listed.instances;
    expect((await req('POST', '/api/instances/stop', { instanceName: a.name })).status).toBe(200);
    expect((await req('POST', `/api/instances/${b.id}/stop`)).status).toBe(200);
    const stops = sim.sim.callLog({ path: '/gpu/instance/stop' }).map((x) => (x.body as any).instanceId);
    expect(stops.sort()).toEqual([a.novitaInstanceId, b.novitaInstanceId].sort());

    const adopted = await req('POST', `/api/instances/${c.id}/adopt`, {});
    expect(adopted.status).toBe(200);
    expect(adopted.body).toMatchObject({ id: c.id, managed: true });
    expect((await req('GET', `/api/instances/${c.id}`)).body.managed).toBe(true);
  });

  it('notices a stop made outside the service and sends one signed instance.stopped', async () => {
    const c = (await req('GET', '/api/instances?managed=true')).body.instances[0];
    expect(await novitaCall(sim, '/gpu/instance/stop', { instanceId: c.novitaInstanceId })).toBe(200);
    await waitFor(async () => sim.sim.getInstance(c.novitaInstanceId)?.status === 'exited', 10_000);
    const first = await req('POST', '/api/instances/sync', {});
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ success: true, data: { updated: expect.any(Number) } });
    expect((await req('GET', `/api/instances/${c.id}`)).body.status).toBe('stopped');
    await receiver.waitFor(
      (e) => e.type === 'instance.stopped' && (e.payload as any).instanceId === c.id,
      10_000,
    );
    await req('POST', '/api/instances/sync', {});
    await new Promise((r) => setTimeout(r, 500));
    expect(eventsOf('instance.stopped', c.id)).toHaveLength(1);
  });

  it('dry run changes nothing and reports exactly what the next real pass applies', async () => {
    sim.sim.seedInstances(2, { status: 'exited' }); // two to adopt
    const victims = (await req('GET', '/api/instances?managed=false&status=running')).body.instances;
    expect(await novitaCall(sim, '/gpu/instance/delete', { instanceId: victims[0].novitaInstanceId })).toBe(
      200,
    );
    expect(await novitaCall(sim, '/gpu/instance/stop', { instanceId: victims[1].novitaInstanceId })).toBe(
      200,
    );
    // Deleted instances stay listed for a while; wait until Novita forgets it and the stop completes.
    await waitFor(async () => sim.sim.getInstance(victims[0].novitaInstanceId) === undefined, 10_000);
    await waitFor(async () => sim.sim.getInstance(victims[1].novitaInstanceId)?.status === 'exited', 10_000);
    await new Promise((r) => setTimeout(r, FAST_TIMINGS.removedListTtl + 200));

    const before = await redisSnapshot(redis.url, 'e2e-sync');
    const dry = await req('POST', '/api/instances/sync', { dryRun: true });
    expect(dry.status).toBe(200);
    expect(await redisSnapshot(redis.url, 'e2e-sync')).toEqual(before);
    expect(dry.body.data).toMatchObject({ adopted: 2, markedObsolete: 1, options: { dryRun: true } });

    const real = await req('POST', '/api/instances/sync', {});
    const counts = (d: any) => ({
      updated: d.updated,
      adopted: d.adopted,
      markedObsolete: d.markedObsolete,
      removed: d.instancesRemoved,
    });
    expect(counts(real.body.data)).toEqual(counts(dry.body.data));
    const gone = (await req('GET', `/api/instances/${victims[0].id}`)).body;
    expect(gone).toMatchObject({ status: 'terminated' });
    await receiver.waitFor(
      (e) => e.type === 'instance.terminated' && (e.payload as any).instanceId === victims[0].id,
      10_000,
    );
    await req('POST', '/api/instances/sync', {});
    await new Promise((r) => setTimeout(r, 500));
    expect(eventsOf('instance.terminated', victims[0].id)).toHaveLength(1);

    const history = await req('GET', '/api/sync/history?limit=10');
    expect(history.body.runs.length).toBeGreaterThanOrEqual(4);
    expect(history.body.runs[0]).toMatchObject({ job: 'sync', outcome: 'succeeded', trigger: 'manual' });
    const health = (await fetch(`${svc.url}/health`).then((r) => r.json())) as any;
    expect(health.sync).toMatchObject({ available: true, isLocked: false, lastSync: expect.any(String) });
  });

  it('runs the same pass for the comprehensive listing with syncLocalState=true', async () => {
    const before = (await req('GET', '/api/sync/history?limit=1')).body.runs[0].id;
    const listCalls = () =>
      sim.sim.callLog({ method: 'GET' }).filter((c) => c.path === '/gpu/instances').length;
    const listedBefore = listCalls();
    const res = await req('GET', '/api/instances/comprehensive?syncLocalState=true');
    expect(res.status).toBe(200);
    expect(res.body.novitaAvailable).toBe(true);
    expect(res.body.sources.novita).toBe(sim.sim.listInstances().length);
    // One page holds every instance: the listing reused the sync pass's walk instead of walking again.
    expect(listCalls() - listedBefore).toBe(1);
    const latest = (await req('GET', '/api/sync/history?limit=1')).body.runs[0];
    expect(latest.id).not.toBe(before);
    expect(latest).toMatchObject({ trigger: 'manual', outcome: 'succeeded' });
  });

  it('marks nothing when Novita fails the whole pass, records the run as failed and keeps serving reads', async () => {
    const before = (await req('GET', '/api/instances?limit=500')).body.instances.map((i: any) => [
      i.id,
      i.status,
    ]);
    sim.sim.injectFaults({ errorRate: 1, errorStatus: 503, paths: ['/gpu/instances', '/gpu/instance'] });
    try {
      const res = await req('POST', '/api/instances/sync', {});
      expect(res.status).toBe(503);
      expect(res.body.error.details.runId).toMatch(/^run_/);
      const after = await req('GET', '/api/instances?limit=500');
      expect(after.status).toBe(200);
      expect(after.body.instances.map((i: any) => [i.id, i.status])).toEqual(before);
      const last = (await req('GET', '/api/sync/history?limit=1')).body.runs[0];
      expect(last).toMatchObject({ outcome: 'failed', id: res.body.error.details.runId });
    } finally {
      sim.sim.clearFaults();
    }
  });
});
