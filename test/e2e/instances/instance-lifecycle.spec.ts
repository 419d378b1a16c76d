import { InstancesE2e, startInstancesE2e } from './instances-e2e.harness';

const TEMPLATE = '212'; // simulator template: http 8080 + 8888, tcp 22

// The whole app over HTTP against the simulator: create → running → ready, stop, start, delete, by id and by name.
describe('instance lifecycle (e2e)', () => {
  let t: InstancesE2e;

  beforeAll(async () => {
    t = await startInstancesE2e();
  }, 30_000);

  afterAll(async () => {
    await t?.close();
  });

  async function createReady(name: string): Promise<{ instanceId: string; novitaInstanceId: string }> {
    const res = await t.request('POST', '/api/instances', {
      name,
      productName: 'RTX 4090 24GB',
      templateId: TEMPLATE,
      billingMode: 'spot',
    });
    expect(res.status).toBe(201);
    await t.waitForEvent('instance.ready', res.body.instanceId, res.body.operationId);
    return res.body;
  }

  it('creates, follows to ready, stops and starts again, with signed created/running/ready events', async () => {
    const res = await t.request('POST', '/api/instances', {
      name: 'life-1',
      productName: 'RTX 4090 24GB',
      templateId: TEMPLATE,
      billingMode: 'spot',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'life-1',
      status: 'creating',
      region: 'AS-SGP-02',
      productId: 'rtx4090-24gb-as-sgp-2',
      billingMode: 'spot',
      price: 0.17,
      regionAttempts: [{ region: 'AS-SGP-02', outcome: 'used' }],
    });
    const { instanceId, novitaInstanceId, operationId } = res.body;
    expect(instanceId).toMatch(/^inst_/);

    for (const type of ['instance.created', 'instance.running', 'instance.ready'])
      await t.waitForEvent(type, instanceId);
    const ready = await t.request('GET', `/api/instances/${instanceId}`);
    expect(ready.body).toMatchObject({
      status: 'ready',
      novitaStatus: 'running',
      readiness: 'passed',
      activeOperationId: null,
    });
    // The Novita id finds the same record.
    expect((await t.request('GET', `/api/instances/${novitaInstanceId}`)).body.instanceId).toBe(instanceId);

    const stop = await t.request('POST', `/api/instances/${instanceId}/stop`);
    expect(stop.status).toBe(200);
    expect(stop.body).toMatchObject({ status: 'stopping', operation: { kind: 'stop' } });
    await t.waitForEvent('instance.stopped', instanceId);
    expect((await t.request('GET', `/api/instances/${instanceId}`)).body).toMatchObject({
      status: 'stopped',
      novitaStatus: 'exited',
    });

    const start = await t.request('POST', `/api/instances/${instanceId}/start`, {
      healthCheck: { port: 8888, path: '/health', timeoutMs: 2000 },
    });
    expect(start.status).toBe(202);
    expect(start.body).toMatchObject({
      instanceId,
      novitaInstanceId,
      status: 'starting',
      operation: { kind: 'start', readiness: { port: 8888, path: '/health' } },
    });
    const readyEvent = await t.waitForEvent('instance.ready', instanceId, start.body.operationId);
    expect((readyEvent.payload as any).data.operation.result).toMatchObject({
      readiness: 'passed',
      httpStatus: 200,
    });
    expect((readyEvent.payload as any).data.operation.result.endpoint).toContain('/8888/health');

    const events = t.eventsFor(instanceId);
    expect(events.every((e) => e.verified)).toBe(true);
    // Each event id arrives once; the create operation produced exactly one running and one ready.
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const ofCreate = events
      .filter((e) => (e.payload as any).data.operation?.operationId === operationId)
      .map((e) => e.type);
    expect(ofCreate.filter((x) => x === 'instance.ready')).toHaveLength(1);
    expect(ofCreate.filter((x) => x === 'instance.running')).toHaveLength(1);
  }, 40_000);

  it('does the same by name: start, stop (idempotent) and delete', async () => {
    const { instanceId, novitaInstanceId } = await createReady('by-name-1');
    const stop = await t.request('POST', '/api/instances/stop', { instanceName: 'by-name-1' });
    expect(stop.status).toBe(200);
    await t.waitForEvent('instance.stopped', instanceId);

    t.sim.sim.clearCallLog();
    const again = await t.request('POST', '/api/instances/stop', { instanceName: 'by-name-1' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'stopped', operationId: null });
    expect(t.sim.sim.callLog({ path: '/gpu/instance/stop' })).toHaveLength(0);

    const start = await t.request('POST', '/api/instances/start', { instanceName: 'by-name-1' });
    expect(start.status).toBe(202);
    for (const type of ['instance.starting', 'instance.running', 'instance.ready']) {
      await t.waitForEvent(type, instanceId, start.body.operationId);
    }

    const del = await t.request('POST', '/api/instances/delete', { instanceName: 'by-name-1' });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ instanceId, status: 'deleted' });
    expect(
      t.sim.sim
        .callLog({ method: 'POST', path: '/gpu/instance/delete' })
        .map((c) => (c.body as any).instanceId),
    ).toEqual([novitaInstanceId]);
    await t.waitForEvent('instance.deleted', instanceId);
    expect((await t.request('POST', '/api/instances/stop', { instanceName: 'by-name-1' })).status).toBe(404);
    // The name is free again.
    expect((await t.request('GET', '/api/instances?name=by-name-1')).body.total).toBe(0);
  }, 40_000);

  it('stops and deletes by id; a second delete is a no-op', async () => {
    const { instanceId } = await createReady('by-id-1');
    expect(
      (await t.request('POST', `/api/instances/${instanceId}/stop`, { webhookUrl: t.receiver.url })).status,
    ).toBe(200);
    const del = await t.request('DELETE', `/api/instances/${instanceId}`);
    expect(del.status).toBe(200);
    expect(del.body.status).toBe('deleted');
    expect((await t.request('DELETE', `/api/instances/${instanceId}`)).body).toMatchObject({
      status: 'deleted',
      message: 'Instance was already deleted',
    });
    expect((await t.request('GET', `/api/instances/${instanceId}`)).body.status).toBe('deleted');
  }, 30_000);

  it('keeps the instance when a start fails for lack of capacity (no delete call)', async () => {
    const { instanceId } = await createReady('no-cap-1');
    await t.request('POST', `/api/instances/${instanceId}/stop`);
    await t.waitForEvent('instance.stopped', instanceId);
    t.sim.sim.setCapacity(undefined, 'RTX 4090 24GB', 0);
    t.sim.sim.clearCallLog();
    try {
      const start = await t.request('POST', `/api/instances/${instanceId}/start`);
      expect(start.status).toBe(503);
      expect(start.body.error.code).toBe('INSUFFICIENT_RESOURCES');
      await t.waitForEvent('instance.startup_failed', instanceId);
      expect(t.sim.sim.callLog({ path: '/gpu/instance/delete' })).toHaveLength(0);
      const after = await t.request('GET', `/api/instances/${instanceId}`);
      expect(after.body).toMatchObject({ status: 'stopped', lastError: { code: 'INSUFFICIENT_RESOURCES' } });
    } finally {
      t.sim.sim.setCapacity(undefined, 'RTX 4090 24GB', 16);
    }
    // Capacity back: the same instance starts.
    const retry = await t.request('POST', `/api/instances/${instanceId}/start`);
    expect(retry.status).toBe(202);
    await t.waitForEvent('instance.ready', instanceId, retry.body.operationId);
  }, 40_000);

  it('answers 409 to a second start while the first is in progress', async () => {
    const { instanceId } = await createReady('busy-1');
    await t.request('POST', `/api/instances/${instanceId}/stop`);
    await t.waitForEvent('instance.stopped', instanceId);
    const first = await t.request('POST', `/api/instances/${instanceId}/start`);
    expect(first.status).toBe(202);
    const second = await t.request('POST', `/api/instances/${instanceId}/start`);
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({
      code: 'OPERATION_IN_PROGRESS',
      details: { operationId: first.body.operationId },
    });
  }, 30_000);
});
