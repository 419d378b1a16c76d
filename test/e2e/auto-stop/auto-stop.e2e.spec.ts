import OpenAPISchemaValidator from 'openapi-schema-validator';
import { AutoStopE2e, sleep, startAutoStopE2e } from './auto-stop.e2e.harness';

const MIN = 60_000;

// Auto-stop over HTTP: the service as a child process on a real Redis, the simulator as Novita,
// a signature-checking receiver. Default sweep interval (5 s): the deadline path must meet 15 s.
describe('auto-stop (e2e, Redis)', () => {
  let t: AutoStopE2e;

  beforeAll(async () => {
    t = await startAutoStopE2e({
      AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES: '1',
      AUTO_STOP_WARNING_MINUTES: '1',
      AUTO_STOP_MAX_IDLE_MINUTES: '120',
    });
    await t.start();
  }, 90_000);

  afterAll(async () => {
    await t?.close();
  });

  /** lastUsedAt such that the deadline is `inMs` from now for an instance with `idleMinutes`. */
  const lastUsedFor = (idleMinutes: number, inMs: number) =>
    new Date(Date.now() - idleMinutes * MIN + inMs).toISOString();

  it('stops an idle managed instance within 15 s of its deadline; warning, auto_stopped and stopped once each, signed', async () => {
    const a = await t.createReady('idle-a');
    const hb = await t.request('PUT', `/api/instances/${a.instanceId}/last-used`, {
      lastUsedAt: lastUsedFor(1, 8_000),
    });
    expect(hb.status).toBe(200);
    const deadline = Date.parse(hb.body.idleDeadline);

    await t.waitForEvent('instance.stopped', a.instanceId, 45_000);
    const calls = t.stopCalls(a.novitaInstanceId);
    expect(calls).toHaveLength(1);
    expect(calls[0].at).toBeGreaterThanOrEqual(deadline);
    expect(calls[0].at - deadline).toBeLessThanOrEqual(15_000);

    await sleep(1_000);
    for (const type of ['instance.idle_warning', 'instance.auto_stopped', 'instance.stopped']) {
      const events = t.eventsOf(a.instanceId, type);
      expect({ type, count: events.length }).toEqual({ type, count: 1 });
      expect(events[0].verified).toBe(true);
    }
    const warning = t.eventsOf(a.instanceId, 'instance.idle_warning')[0].payload as any;
    expect(warning.data.autoStop).toMatchObject({
      idleDeadline: new Date(deadline).toISOString(),
      snoozeUrl: `/api/instances/${a.instanceId}/auto-stop/snooze`,
    });
    const stopped = t.eventsOf(a.instanceId, 'instance.auto_stopped')[0].payload as any;
    expect(stopped.data.autoStop).toMatchObject({
      idleDeadline: new Date(deadline).toISOString(),
      policy: { enabled: true, idleMinutes: 1, action: 'stop', deleteAfterStoppedMinutes: null },
      operationId: expect.stringMatching(/^op_/),
    });
    expect(stopped.data.autoStop.idleSeconds).toBeGreaterThanOrEqual(60);
    const stats = await t.request('GET', '/api/instances/auto-stop/stats');
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({ enabled: true, dryRun: false, sweepIntervalSeconds: 5 });
    expect(stats.body.totals.stopped).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('documents the auto-stop endpoints (descriptions, error responses) in a valid OpenAPI document', async () => {
    const doc = (await (await fetch(`${t.replicas[0].url}/docs-json`)).json()) as any;
    expect(new OpenAPISchemaValidator({ version: 3 }).validate(doc).errors).toEqual([]);
    const ops: [string, string, string[]][] = [
      ['/api/instances/auto-stop/stats', 'get', ['200', '401']],
      ['/api/instances/auto-stop/trigger', 'post', ['200', '400', '401', '404', '409']],
      ['/api/instances/{instanceId}/auto-stop', 'get', ['200', '400', '401', '404']],
      ['/api/instances/{instanceId}/auto-stop', 'put', ['200', '400', '401', '404', '409']],
      ['/api/instances/{instanceId}/auto-stop/snooze', 'post', ['200', '400', '401', '404', '409']],
    ];
    for (const [path, method, codes] of ops) {
      const op = doc.paths[path]?.[method];
      expect({ path, method, summary: Boolean(op?.summary) }).toEqual({ path, method, summary: true });
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(codes));
    }
    expect(doc.components.schemas.CreateInstanceDto.properties).toHaveProperty('autoStop');
    expect(doc.components.schemas.AutoStopPolicyDto.properties.idleMinutes.description).toContain(
      'AUTO_STOP_MAX_IDLE_MINUTES',
    );
  });

  it('a heartbeat before the deadline prevents the stop; a snooze moves it; out-of-bounds policies are 400s naming the bound', async () => {
    const b = await t.createReady('busy-b', { autoStop: { idleMinutes: 30 } });
    const first = await t.request('PUT', `/api/instances/${b.instanceId}/last-used`, {
      lastUsedAt: lastUsedFor(30, 6_000),
    });
    const firstDeadline = Date.parse(first.body.idleDeadline);
    await sleep(2_000);
    const second = await t.request('PUT', `/api/instances/${b.instanceId}/last-used`, {});
    expect(Date.parse(second.body.idleDeadline)).toBeGreaterThan(Date.now() + 29 * MIN);

    const snooze = await t.request('POST', `/api/instances/${b.instanceId}/auto-stop/snooze`, {
      minutes: 10,
    });
    expect(snooze.status).toBe(200);
    expect(Date.parse(snooze.body.idleDeadline)).toBe(Date.parse(second.body.idleDeadline) + 10 * MIN);
    const policy = await t.request('GET', `/api/instances/${b.instanceId}/auto-stop`);
    expect(policy.body).toMatchObject({
      idleDeadline: snooze.body.idleDeadline,
      policy: { idleMinutes: 30 },
    });

    const tooFar = await t.request('POST', `/api/instances/${b.instanceId}/auto-stop/snooze`, {
      minutes: 200,
    });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.error.message).toContain('AUTO_STOP_MAX_IDLE_MINUTES');
    const badPut = await t.request('PUT', `/api/instances/${b.instanceId}/auto-stop`, { idleMinutes: 500 });
    expect(badPut.status).toBe(400);
    expect(badPut.body.error.message).toContain('at most 120 (AUTO_STOP_MAX_IDLE_MINUTES)');
    const badCreate = await t.request('POST', '/api/instances', {
      name: 'never-made',
      productName: 'RTX 4090 24GB',
      templateId: '212',
      autoStop: { idleMinutes: 500 },
    });
    expect(badCreate.status).toBe(400);
    expect(badCreate.body.error.details.fields[0]).toMatchObject({ field: 'idleMinutes' });

    // Past the first deadline plus a full sweep: still running, no stop call.
    await sleep(Math.max(0, firstDeadline + 8_000 - Date.now()));
    expect(t.stopCalls(b.novitaInstanceId)).toEqual([]);
    expect((await t.request('GET', `/api/instances/${b.instanceId}`)).body.status).toBe('ready');
  }, 90_000);

  it('leaves an unmanaged instance with an old lastUsedAt, and a managed one mid-operation, alone', async () => {
    const c = await t.createReady('foreign-c', { autoStop: { idleMinutes: 30 } });
    const d = await t.createReady('mid-op-d', { autoStop: { idleMinutes: 30 } });
    // Sync records instances found on the account as managed=false; play that here.
    await t.patchRecord(c.instanceId, { managed: false, lastUsedAt: '2020-01-01T00:00:00.000Z' });
    await t.client.zadd(`${t.prefix}:autostop:deadlines`, Date.now() - 60_000, c.instanceId);

    // A readiness re-check that keeps failing holds an open start operation on d.
    t.sim.sim.setAppHealth(d.novitaInstanceId, 'unhealthy');
    const start = await t.request('POST', `/api/instances/${d.instanceId}/start`, {
      healthCheck: { path: '/ready' },
    });
    expect(start.status).toBe(202);
    const hb = await t.request('PUT', `/api/instances/${d.instanceId}/last-used`, {
      lastUsedAt: lastUsedFor(30, -1_000),
    });
    expect(hb.status).toBe(200);

    await sleep(12_000);
    expect(t.stopCalls(c.novitaInstanceId)).toEqual([]);
    expect(t.stopCalls(d.novitaInstanceId)).toEqual([]);
    const members = await t.deadlineMembers();
    expect(members).not.toContain(c.instanceId);
    // Retried next pass, so d keeps its deadline.
    expect(members).toContain(d.instanceId);
    t.sim.sim.setAppHealth(d.novitaInstanceId, 'healthy');
  }, 120_000);

  it('stop-then-delete: stopped at the deadline, deleted deleteAfterStoppedMinutes later; a start in between cancels the delete', async () => {
    const policy = { autoStop: { idleMinutes: 30, deleteAfterStoppedMinutes: 1 } };
    const e = await t.createReady('temp-e', policy);
    const f = await t.createReady('temp-f', policy);
    for (const x of [e, f])
      await t.request('PUT', `/api/instances/${x.instanceId}/last-used`, {
        lastUsedAt: lastUsedFor(30, 2_000),
      });
    await t.waitForEvent('instance.stopped', e.instanceId, 30_000);
    await t.waitForEvent('instance.stopped', f.instanceId, 30_000);
    const stoppedAt = t.stopCalls(e.novitaInstanceId)[0].at;
    const pending = await t.request('GET', `/api/instances/${e.instanceId}/auto-stop`);
    expect(pending.body.pendingDeleteAt).not.toBeNull();

    const start = await t.request('POST', `/api/instances/${f.instanceId}/start`, {});
    expect(start.status).toBe(202);
    await t.waitForEvent('instance.ready', f.instanceId, 30_000);

    await t.waitForEvent('instance.auto_deleted', e.instanceId, 100_000);
    const deletes = t.deleteCalls(e.novitaInstanceId);
    expect(deletes).toHaveLength(1);
    expect(deletes[0].at - stoppedAt).toBeGreaterThanOrEqual(MIN - 1_000);
    expect(deletes[0].at - stoppedAt).toBeLessThanOrEqual(MIN + 15_000);
    await sleep(1_000);
    for (const type of [
      'instance.auto_stopped',
      'instance.stopped',
      'instance.auto_deleted',
      'instance.deleted',
    ])
      expect({ type, count: t.eventsOf(e.instanceId, type).length }).toEqual({ type, count: 1 });

    // f was started again: never deleted, no pending delete.
    await sleep(6_000);
    expect(t.deleteCalls(f.novitaInstanceId)).toEqual([]);
    expect(t.eventsOf(f.instanceId, 'instance.auto_deleted')).toEqual([]);
    const fPolicy = await t.request('GET', `/api/instances/${f.instanceId}/auto-stop`);
    expect(fPolicy.body).toMatchObject({ pendingDeleteAt: null, status: 'ready' });
  }, 200_000);
});
