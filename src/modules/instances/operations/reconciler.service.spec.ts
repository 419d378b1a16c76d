import { AppError, ErrorCode } from '../../../common/errors';
import { buildInstancesHarness, InstancesHarness } from '../../../../test/fakes/instances-unit-harness';
import { OPEN_OPERATIONS_KEY } from '../../records/operation.repository';
import { ReconcilerService } from './reconciler.service';

const HTTP_PORTS = [
  { port: 22, type: 'tcp', endpoint: '1.2.3.4:2201' },
  { port: 8080, type: 'http', endpoint: 'http://nv1-8080.example' },
];

async function createOne(h: InstancesHarness, extra: Record<string, unknown> = {}) {
  return h.creator.create({ name: 'web-1', productName: 'RTX 4090', templateId: 't1', ...extra } as never);
}

describe('ReconcilerService', () => {
  let h: InstancesHarness;
  beforeEach(() => {
    h = buildInstancesHarness();
  });

  it('follows a create to running and ready, emitting each event once', async () => {
    const created = await createOne(h);
    const t0 = Date.now();
    await h.reconciler.reconcileOnce(t0);
    expect(h.emitter.types()).toEqual(['instance.created']);
    expect((await h.repo.get(created.instanceId))?.status).toBe('creating');

    h.novita.setStatus(created.novitaInstanceId, 'running', { portMappings: HTTP_PORTS });
    const summary = await h.reconciler.reconcileOnce(t0 + 1_000);
    expect(summary).toMatchObject({ checked: 1, succeeded: 1, errors: 0 });
    expect(h.emitter.types()).toEqual(['instance.created', 'instance.running', 'instance.ready']);
    // Only the http port is probed, at its endpoint + path.
    expect(h.prober.probes).toEqual(['http://nv1-8080.example/']);

    const record = await h.repo.get(created.instanceId);
    expect(record).toMatchObject({
      status: 'ready',
      readiness: 'passed',
      novitaStatus: 'running',
      activeOperationId: null,
    });
    const op = await h.operations.get(created.operationId);
    expect(op).toMatchObject({
      phase: 'succeeded',
      attempts: 1,
      result: { readiness: 'passed', httpStatus: 200 },
    });
    expect(await h.store.sortedSetRangeByScore(OPEN_OPERATIONS_KEY, -Infinity, Infinity)).toEqual([]);

    // Nothing left to do: more passes emit nothing.
    await h.reconciler.reconcileOnce(t0 + 60_000);
    expect(h.emitter.emitted).toHaveLength(3);
    const ready = h.emitter.emitted[2];
    expect(ready.dedupeKey).toBe(`${created.operationId}:ready`);
    expect(ready.data).toMatchObject({
      instance: { instanceId: created.instanceId, status: 'ready' },
      operation: { phase: 'succeeded' },
    });
  });

  it('retries the readiness check each pass and fails at the deadline without deleting the instance', async () => {
    const created = await createOne(h, { healthCheck: { maxWaitTimeMs: 10_000, path: '/health' } });
    h.novita.setStatus(created.novitaInstanceId, 'running', { portMappings: HTTP_PORTS });
    h.prober.answer = { ok: false, httpStatus: 503, error: 'HTTP 503', durationMs: 2 };
    const t0 = Date.now();
    await h.reconciler.reconcileOnce(t0 + 1);
    // Not due again until the readiness interval has passed.
    expect((await h.reconciler.reconcileOnce(t0 + 2)).checked).toBe(0);
    await h.reconciler.reconcileOnce(t0 + 1_000);
    const op = await h.operations.get(created.operationId);
    expect(op).toMatchObject({
      phase: 'readiness',
      attempts: 2,
      lastCheck: { ok: false, httpStatus: 503, endpoint: 'http://nv1-8080.example/health' },
    });
    expect(h.emitter.types()).toEqual(['instance.created', 'instance.running']);

    await h.reconciler.reconcileOnce(t0 + 11_000);
    expect(h.emitter.types()).toEqual(['instance.created', 'instance.running', 'instance.startup_failed']);
    const record = await h.repo.get(created.instanceId);
    expect(record).toMatchObject({ status: 'failed', readiness: 'failed', activeOperationId: null });
    expect(record?.lastError?.message).toMatch(/timed out/);
    expect(h.novita.callsTo('deleteInstance')).toHaveLength(0);
    expect((await h.operations.get(created.operationId))?.phase).toBe('failed');
  });

  it('is ready without probing when the instance has no http port (readiness skipped)', async () => {
    const created = await createOne(h);
    h.novita.setStatus(created.novitaInstanceId, 'running', {
      portMappings: [{ port: 22, type: 'tcp', endpoint: '1.2.3.4:22' }],
    });
    await h.reconciler.reconcileOnce(Date.now() + 1);
    expect(h.prober.probes).toEqual([]);
    expect(await h.repo.get(created.instanceId)).toMatchObject({ status: 'ready', readiness: 'skipped' });
    expect((await h.operations.get(created.operationId))?.result).toEqual({ readiness: 'skipped' });
  });

  it('fails fast when the requested port is not an http port', async () => {
    const created = await createOne(h, { healthCheck: { port: 22 } });
    h.novita.setStatus(created.novitaInstanceId, 'running', { portMappings: HTTP_PORTS });
    await h.reconciler.reconcileOnce(Date.now() + 1);
    expect(h.prober.probes).toEqual([]);
    expect(h.emitter.types()).toContain('instance.startup_failed');
    expect((await h.repo.get(created.instanceId))?.lastError?.message).toMatch(/port 22 is mapped as tcp/);
  });

  it('keeps the operation open when Novita is unreachable, and carries on later', async () => {
    const created = await createOne(h);
    h.novita.failNext('getInstance', new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, 'down'));
    await h.reconciler.reconcileOnce(Date.now() + 1);
    expect(await h.operations.get(created.operationId)).toMatchObject({
      phase: 'waiting_running',
      lastError: 'UPSTREAM_UNAVAILABLE: down',
    });
    h.novita.setStatus(created.novitaInstanceId, 'running', { portMappings: HTTP_PORTS });
    await h.reconciler.reconcileOnce(Date.now() + 5_000);
    expect((await h.repo.get(created.instanceId))?.status).toBe('ready');
  });

  it('retries a step whose event could not be recorded, and delivers it once', async () => {
    const created = await createOne(h);
    h.novita.setStatus(created.novitaInstanceId, 'running', { portMappings: HTTP_PORTS });
    h.emitter.failNext = 1; // the running event fails: nothing may be recorded as running yet
    expect((await h.reconciler.reconcileOnce(Date.now() + 1)).errors).toBe(1);
    expect((await h.operations.get(created.operationId))?.phase).toBe('waiting_running');
    await h.reconciler.reconcileOnce(Date.now() + 2);
    expect(h.emitter.types()).toEqual(['instance.created', 'instance.running', 'instance.ready']);
  });

  it('carries on after a restart: a new reconciler on the same store finishes the operation', async () => {
    const created = await createOne(h);
    h.novita.setStatus(created.novitaInstanceId, 'running', { portMappings: HTTP_PORTS });
    h.prober.answer = { ok: false, httpStatus: 502, durationMs: 1 };
    await h.reconciler.reconcileOnce(Date.now() + 1);
    // "Process restart": a fresh service instance, same store and same Novita.
    const next = new ReconcilerService(
      h.operations,
      h.repo,
      h.novita,
      h.events,
      h.prober,
      h.intents,
      h.configService,
    );
    h.prober.answer = { ok: true, httpStatus: 204, durationMs: 1 };
    await next.reconcileOnce(Date.now() + 5_000);
    expect(h.emitter.types()).toEqual(['instance.created', 'instance.running', 'instance.ready']);
  });

  it('marks the instance terminated and fails the operation when Novita no longer knows it', async () => {
    const created = await createOne(h);
    h.novita.instances.delete(created.novitaInstanceId);
    await h.reconciler.reconcileOnce(Date.now() + 1);
    expect((await h.repo.get(created.instanceId))?.status).toBe('terminated');
    expect(h.emitter.types()).toEqual(['instance.created', 'instance.startup_failed']);
  });

  it('follows a stop until Novita reports exited, then emits instance.stopped', async () => {
    const created = await createOne(h);
    h.novita.setStatus(created.novitaInstanceId, 'running', { portMappings: HTTP_PORTS });
    await h.reconciler.reconcileOnce(Date.now() + 1);
    const stop = await h.lifecycle.stop((await h.repo.get(created.instanceId))!);
    expect(stop.status).toBe('stopping');
    await h.reconciler.reconcileOnce(Date.now() + 1_000);
    expect(h.emitter.types()).not.toContain('instance.stopped');
    h.novita.setStatus(created.novitaInstanceId, 'exited');
    await h.reconciler.reconcileOnce(Date.now() + 2_000);
    expect(h.emitter.types().slice(-2)).toEqual(['instance.stopping', 'instance.stopped']);
    expect(await h.repo.get(created.instanceId)).toMatchObject({
      status: 'stopped',
      activeOperationId: null,
    });
  });

  it('drops an operation that a stop superseded, without a startup_failed event', async () => {
    const created = await createOne(h);
    h.novita.setStatus(created.novitaInstanceId, 'pulling');
    await h.lifecycle.stop((await h.repo.get(created.instanceId))!);
    expect((await h.operations.get(created.operationId))?.phase).toBe('cancelled');
    h.novita.setStatus(created.novitaInstanceId, 'running', { portMappings: HTTP_PORTS });
    await h.reconciler.reconcileOnce(Date.now() + 60_000);
    expect(h.emitter.types()).not.toContain('instance.running');
    expect(h.emitter.types()).not.toContain('instance.startup_failed');
  });
});
