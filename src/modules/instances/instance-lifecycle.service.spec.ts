import { AppError, ErrorCode } from '../../common/errors';
import { buildInstancesHarness, InstancesHarness } from '../../../test/fakes/instances-unit-harness';

describe('InstanceLifecycleService', () => {
  let h: InstancesHarness;
  let instanceId: string;
  let novitaId: string;
  beforeEach(async () => {
    h = buildInstancesHarness();
    const res = await h.creator.create({ name: 'svc', productName: 'RTX 4090', templateId: 't1' } as never);
    instanceId = res.instanceId;
    novitaId = res.novitaInstanceId;
    h.novita.setStatus(novitaId, 'exited');
    // Close the create operation as the reconciler would.
    await h.reconciler.reconcileOnce(Date.now() + 700_000);
  });
  const record = async () => (await h.repo.get(instanceId))!;

  it('starts an exited instance: Novita start, an open operation and instance.starting', async () => {
    const res = await h.lifecycle.start(await record(), {
      healthCheck: { port: 8080, path: '/ready' },
      webhookUrl: 'https://hooks.example/s',
    });
    expect(res).toMatchObject({
      instanceId,
      status: 'starting',
      operation: { kind: 'start', phase: 'waiting_running', readiness: { port: 8080, path: '/ready' } },
    });
    expect(h.novita.callsTo('startInstance')).toHaveLength(1);
    expect(h.emitter.emitted.at(-1)).toMatchObject({
      type: 'instance.starting',
      url: 'https://hooks.example/s',
    });
    expect((await record()).activeOperationId).toBe(res.operationId);
  });

  it('refuses a second start while one is in progress (409)', async () => {
    await h.lifecycle.start(await record());
    await expect(h.lifecycle.start(await record())).rejects.toMatchObject({
      code: ErrorCode.OPERATION_IN_PROGRESS,
    });
    expect(h.novita.callsTo('startInstance')).toHaveLength(1);
  });

  it('never deletes the instance when Novita rejects the start', async () => {
    h.novita.failNext(
      'startInstance',
      new AppError(ErrorCode.INSUFFICIENT_RESOURCES, 'INSUFFICIENT_RESOURCE'),
    );
    await expect(h.lifecycle.start(await record())).rejects.toMatchObject({
      code: ErrorCode.INSUFFICIENT_RESOURCES,
    });
    expect(h.novita.callsTo('deleteInstance')).toHaveLength(0);
    expect(h.novita.instances.get(novitaId)?.status).toBe('exited');
    expect(await record()).toMatchObject({
      status: 'stopped',
      activeOperationId: null,
      lastError: { code: 'INSUFFICIENT_RESOURCES' },
    });
    expect(h.emitter.types().at(-1)).toBe('instance.startup_failed');
    // And it can be started once capacity is back.
    await expect(h.lifecycle.start(await record())).resolves.toMatchObject({ status: 'starting' });
  });

  it('stop is idempotent: an exited instance gets 200 with its state and no stop call', async () => {
    const res = await h.lifecycle.stop(await record());
    expect(res).toMatchObject({
      status: 'stopped',
      operationId: null,
      message: 'Instance is already stopped',
    });
    expect(h.novita.callsTo('stopInstance')).toHaveLength(0);
  });

  it('a second stop while stopping returns the same operation without another Novita call', async () => {
    h.novita.setStatus(novitaId, 'running');
    const first = await h.lifecycle.stop(await record());
    const second = await h.lifecycle.stop(await record());
    expect(second.operationId).toBe(first.operationId);
    expect(h.novita.callsTo('stopInstance')).toHaveLength(1);
  });

  it('refuses to start an instance that is being deleted or migrating (409)', async () => {
    h.novita.setStatus(novitaId, 'migrating');
    await expect(h.lifecycle.start(await record())).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
  });

  it('deletes: Novita delete, status deleted, name free, event once; a repeat is a no-op', async () => {
    const res = await h.lifecycle.delete(await record());
    expect(res.status).toBe('deleted');
    expect(h.novita.callsTo('deleteInstance')).toHaveLength(1);
    expect(await h.repo.findByName('svc')).toBeNull();
    expect((await record()).status).toBe('deleted');
    await h.lifecycle.delete(await record());
    expect(h.novita.callsTo('deleteInstance')).toHaveLength(1);
    expect(h.emitter.types().filter((t) => t === 'instance.deleted')).toHaveLength(1);
  });

  it('treats an instance already gone on Novita as deleted', async () => {
    h.novita.instances.delete(novitaId);
    await expect(h.lifecycle.delete(await record())).resolves.toMatchObject({ status: 'deleted' });
  });
});

describe('InstanceLifecycleService write-ahead intents', () => {
  const later = () => Date.now() + 10 * 60_000;

  async function instanceIn(h: InstancesHarness, status: string) {
    const res = await h.creator.create({ name: 'x', productName: 'RTX 4090', templateId: 't1' } as never);
    h.novita.setStatus(res.novitaInstanceId, status);
    await h.reconciler.reconcileOnce(Date.now() + 700_000);
    return {
      record: (await h.repo.get(res.instanceId))!,
      novitaId: res.novitaInstanceId,
      seen: h.emitter.types().length,
    };
  }

  it('settles a start whose answer was lost: Novita started it, so the owed events follow', async () => {
    const h = buildInstancesHarness();
    const { record, novitaId, seen } = await instanceIn(h, 'exited');
    h.novita.failNext('startInstance', new AppError(ErrorCode.UPSTREAM_TIMEOUT, 'timeout'));
    await expect(h.lifecycle.start(record)).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_TIMEOUT });
    const opId = (await h.repo.get(record.id))!.activeOperationId!;
    expect(await h.operations.get(opId)).toMatchObject({ kind: 'start', phase: 'intent' });
    h.novita.setStatus(novitaId, 'starting'); // the request had reached Novita after all
    await h.reconciler.reconcileOnce(later());
    expect((await h.operations.get(opId))?.phase).toBe('waiting_running');
    expect(h.emitter.types().slice(seen)).toEqual(['instance.starting']);
  });

  it('settles a stop that never reached Novita: the operation fails and the instance is free again', async () => {
    const h = buildInstancesHarness();
    const { record } = await instanceIn(h, 'running');
    h.novita.failNext('stopInstance', new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, 'down'));
    await expect(h.lifecycle.stop(record)).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_UNAVAILABLE });
    const opId = (await h.repo.get(record.id))!.activeOperationId!;
    await h.reconciler.reconcileOnce(later());
    expect(await h.operations.get(opId)).toMatchObject({
      phase: 'failed',
      error: { code: 'STOP_NOT_APPLIED' },
    });
    expect((await h.repo.get(record.id))?.activeOperationId).toBeNull();
    await expect(h.lifecycle.stop(record)).resolves.toMatchObject({ status: 'stopping' });
  });
});
