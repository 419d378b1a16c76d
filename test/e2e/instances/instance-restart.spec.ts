import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { ServiceProcess, startService } from '../../support/service-process';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { RunningSimulator, startSimulator } from '../../../simulator';
import { FAST_TIMINGS, WEBHOOK_SECRET, httpRequest, serviceEnv } from './instances-e2e.harness';

// Durable operations: SIGKILL the service after a start was accepted and before the instance is ready;
// a new process on the same Redis finishes the operation, and every event id arrives exactly once.
describe('operations survive a SIGKILL (e2e, Redis)', () => {
  let redis: RedisServerHandle;
  let sim: RunningSimulator;
  let receiver: WebhookReceiver;
  let svc: ServiceProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    redis = await startRedisServer();
    sim = await startSimulator({ timings: FAST_TIMINGS, seed: 11 });
    receiver = await WebhookReceiver.start({ secret: WEBHOOK_SECRET });
    env = serviceEnv(sim, receiver, { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'e2e-restart' });
  }, 60_000);

  afterAll(async () => {
    await svc?.kill('SIGKILL');
    await receiver?.stop();
    await sim?.close();
    await redis?.stop();
  });

  const eventsOf = (instanceId: string, operationId?: string) =>
    receiver.events.filter((e) => {
      const p = e.payload as any;
      return p.instanceId === instanceId && (!operationId || p.data?.operation?.operationId === operationId);
    });

  it('delivers the ready event after a restart, once per event id', async () => {
    svc = await startService(env);
    const created = await httpRequest(svc.url, 'POST', '/api/instances', {
      name: 'survivor',
      productName: 'RTX 4090 24GB',
      templateId: '212',
    });
    expect(created.status).toBe(201);
    const { instanceId, novitaInstanceId } = created.body;
    await receiver.waitFor(
      (e) => e.type === 'instance.ready' && (e.payload as any).instanceId === instanceId,
      20_000,
    );
    expect((await httpRequest(svc.url, 'POST', `/api/instances/${instanceId}/stop`)).status).toBe(200);
    await receiver.waitFor(
      (e) => e.type === 'instance.stopped' && (e.payload as any).instanceId === instanceId,
      20_000,
    );

    // The app will answer 503 once running, so the readiness check keeps failing until we say otherwise.
    sim.sim.setAppHealth(novitaInstanceId, 'unhealthy');
    const start = await httpRequest(svc.url, 'POST', `/api/instances/${instanceId}/start`, {
      healthCheck: { path: '/ready' },
    });
    expect(start.status).toBe(202);
    const opId = start.body.operationId;
    await receiver.waitFor(
      (e) => e.type === 'instance.running' && (e.payload as any).data?.operation?.operationId === opId,
      20_000,
    );
    // A few failing probes happen before the kill.
    await new Promise((r) => setTimeout(r, 600));
    expect(eventsOf(instanceId, opId).map((e) => e.type)).not.toContain('instance.ready');

    await svc.kill('SIGKILL');
    sim.sim.setAppHealth(novitaInstanceId, 'healthy');
    svc = await startService(env);

    await receiver.waitFor(
      (e) => e.type === 'instance.ready' && (e.payload as any).data?.operation?.operationId === opId,
      30_000,
    );
    const mine = eventsOf(instanceId, opId);
    expect(mine.every((e) => e.verified)).toBe(true);
    expect(mine.map((e) => e.type).sort()).toEqual([
      'instance.ready',
      'instance.running',
      'instance.starting',
    ]);
    for (const e of mine) expect(receiver.eventsWithId(e.id!)).toHaveLength(1);

    const after = await httpRequest(svc.url, 'GET', `/api/instances/${instanceId}`);
    expect(after.body).toMatchObject({ status: 'ready', readiness: 'passed', activeOperationId: null });
    const ready = mine.find((e) => e.type === 'instance.ready')!.payload as any;
    expect(ready.data.operation.attempts).toBeGreaterThan(1);
    // Let in-flight deliveries settle, then make sure nothing was delivered twice.
    await new Promise((r) => setTimeout(r, 500));
    const ids = receiver.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  }, 120_000);
});
