import OpenAPISchemaValidator from 'openapi-schema-validator';
import { ServiceProcess } from '../../support/service-process';
import {
  MigrationE2e,
  api,
  createReady,
  eventsOf,
  jq,
  patchRecord,
  startMigrationE2e,
  waitEvent,
} from './migration-e2e.harness';

// Spot recovery over HTTP against the simulator, Redis store, default reclaim-check interval (10 s).
describe('spot recovery (e2e, Redis)', () => {
  let t: MigrationE2e;
  let svc: ServiceProcess;
  let call: ReturnType<typeof api>;

  beforeAll(async () => {
    t = await startMigrationE2e('e2e-spot');
    svc = await t.start({ HEALTH_CHECK_TIMEOUT_MS: '1000' });
    call = api(svc);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('migrates a reclaimed managed spot instance within 30 s; same id and name, ready, reclaimed then migrated (signed, spec fields)', async () => {
    const { instanceId, novitaInstanceId } = await createReady(svc, t.receiver, 'spot-main');
    t.sim.sim.reclaimSpot(novitaInstanceId);
    const reclaimedAt = t.sim.sim.now();

    const migrated = await waitEvent(t.receiver, 'instance.migrated', instanceId, 60_000);
    const migrateCalls = t.sim.sim.callLog({ path: '/gpu/instance/migrate' });
    expect(migrateCalls).toHaveLength(1);
    expect(migrateCalls[0].body).toEqual({ instanceId: novitaInstanceId });
    expect(migrateCalls[0].at - reclaimedAt).toBeLessThanOrEqual(30_000);

    const reclaimed = eventsOf(t.receiver, 'instance.reclaimed', instanceId);
    expect(reclaimed).toHaveLength(1);
    expect(reclaimed[0].receivedAt).toBeLessThanOrEqual(migrated.receivedAt);
    expect(reclaimed[0].verified).toBe(true);
    expect(migrated.verified).toBe(true);
    const data = (migrated.payload as { data: any }).data;
    expect(data).toMatchObject({
      event: 'instance.migrated',
      instanceId,
      originalInstanceId: instanceId,
      status: 'running',
      migration: {
        reason: 'spot_reclaim',
        triggeredBy: 'automatic_migration',
        originalNovitaInstanceId: novitaInstanceId,
        novitaInstanceId,
      },
      instance: { id: instanceId, name: 'spot-main', status: 'ready' },
    });
    expect(typeof data.timestamp).toBe('string');
    expect(data.migration.migrationTime).toBeGreaterThan(0);
    expect(data.instance.connectionDetails.endpoints.length).toBeGreaterThan(0);
    expect(data.instance.connectionDetails.jupyter).toMatch(/^http/);

    const got = await call('GET', `/api/instances/${instanceId}`);
    expect(got.body).toMatchObject({
      instanceId,
      name: 'spot-main',
      novitaInstanceId,
      status: 'ready',
      novitaStatus: 'running',
      readiness: 'passed',
      activeOperationId: null,
    });
    expect(t.sim.sim.getInstance(novitaInstanceId)).toMatchObject({
      status: 'running',
      spotReclaimTime: '0',
    });
    // Later quick checks leave it alone.
    await new Promise((r) => setTimeout(r, 11_000));
    expect(t.sim.sim.callLog({ path: '/gpu/instance/migrate' })).toHaveLength(1);
    expect(eventsOf(t.receiver, 'instance.migrated', instanceId)).toHaveLength(1);
  }, 120_000);

  it("/api/migration/status feeds the spec's two monitoring scripts with numbers; /health has the migrationService block", async () => {
    // A full pass after the migration, so every statistic the scripts divide by is non-zero.
    const pass = await call('POST', '/api/migration/trigger', {});
    expect(pass.status).toBe(200);
    expect(pass.body).toMatchObject({ status: 'completed', dryRun: false, trigger: 'manual' });

    const res = await call('GET', '/api/migration/status');
    expect(res.status).toBe(200);
    // Script 1, "Check Migration Service Health", verbatim jq filters.
    expect(jq('.enabled', res.body, true)).toBe('true');
    expect(jq('.lastExecution.status', res.body, true)).toBe('completed');
    // Script 2, "Monitor Migration Performance", verbatim filter.
    const perf = JSON.parse(
      jq(
        `{
    success_rate: (.statistics.successfulExecutions / .statistics.totalExecutions * 100),
    avg_execution_time_minutes: (.statistics.averageExecutionTime / 60000),
    total_migrations: .statistics.totalMigrations,
    migration_rate: (.statistics.totalMigrations / .statistics.totalInstancesProcessed * 100)
}`,
        res.body,
      ),
    );
    for (const v of Object.values(perf)) expect(typeof v).toBe('number');
    expect(perf.success_rate).toBe(100);
    expect(perf.total_migrations).toBeGreaterThanOrEqual(1);
    expect(perf.avg_execution_time_minutes).toBeGreaterThan(0);
    expect(res.body.statistics.migrationsSucceeded).toBeGreaterThanOrEqual(1);
    expect(res.body.configuration).toMatchObject({ maxConcurrent: 5, reclaimCheckIntervalSeconds: 10 });

    const history = await call('GET', '/api/migration/history?limit=5&offset=0');
    expect(history.status).toBe(200);
    expect(history.body.executions[0]).toMatchObject({
      id: pass.body.id,
      summary: {
        totalInstances: expect.any(Number),
        eligibleInstances: 0,
        migratedInstances: 0,
        errorCount: 0,
      },
    });
    expect((await call('GET', '/api/migration/history?limit=0')).status).toBe(400);

    const doc = (await (await fetch(`${svc.url}/docs-json`)).json()) as any;
    expect(new OpenAPISchemaValidator({ version: 3 }).validate(doc).errors).toEqual([]);
    for (const [path, method, codes] of [
      ['/api/migration/status', 'get', ['200', '401', '503']],
      ['/api/migration/trigger', 'post', ['200', '400', '401', '404', '409', '503']],
      ['/api/migration/history', 'get', ['200', '400', '401', '503']],
    ] as const) {
      const op = doc.paths[path][method];
      expect(op.description).toBeTruthy();
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining([...codes]));
    }

    const health = await call('GET', '/health');
    expect(health.body.migrationService).toMatchObject({
      enabled: true,
      status: 'healthy',
      recentErrors: 0,
      lastExecution: expect.any(String),
      nextExecution: expect.any(String),
    });
  }, 60_000);

  it('recreates once when the migration job fails: same id and name, new Novita id, old one deleted', async () => {
    const { instanceId, novitaInstanceId } = await createReady(svc, t.receiver, 'spot-fail');
    const createsBefore = t.sim.sim.callLog({ path: '/gpu/instance/create' }).length;
    t.sim.sim.failNextMigration(novitaInstanceId);
    t.sim.sim.reclaimSpot(novitaInstanceId);

    const recreated = await waitEvent(t.receiver, 'instance.recreated', instanceId, 90_000);
    const data = (recreated.payload as { data: any }).data;
    const newId = data.migration.novitaInstanceId;
    expect(newId).not.toBe(novitaInstanceId);
    expect(data).toMatchObject({
      event: 'instance.recreated',
      instanceId,
      migration: {
        recreated: true,
        originalNovitaInstanceId: novitaInstanceId,
        migrationFailure: { code: 'MIGRATION_JOB_FAILED' },
      },
      instance: { id: instanceId, name: 'spot-fail', novitaInstanceId: newId, status: 'ready' },
    });
    expect(recreated.verified).toBe(true);

    const migrateCalls = t.sim.sim
      .callLog({ path: '/gpu/instance/migrate' })
      .filter((c) => (c.body as { instanceId: string }).instanceId === novitaInstanceId);
    expect(migrateCalls).toHaveLength(1);
    const creates = t.sim.sim.callLog({ path: '/gpu/instance/create' }).slice(createsBefore);
    expect(creates).toHaveLength(1);
    expect((creates[0].body as { name: string }).name).toBe('spot-fail');
    // Old deleted only after the new one existed.
    const deletes = t.sim.sim
      .callLog({ path: '/gpu/instance/delete' })
      .filter((c) => (c.body as { instanceId: string }).instanceId === novitaInstanceId);
    expect(deletes).toHaveLength(1);
    expect(deletes[0].at).toBeGreaterThanOrEqual(creates[0].at);
    expect(['toRemove', 'removing', 'removed']).toContain(
      t.sim.sim.getInstance(novitaInstanceId)?.status ?? 'removed',
    );

    const got = await call('GET', `/api/instances/${instanceId}`);
    expect(got.body).toMatchObject({
      instanceId,
      name: 'spot-fail',
      novitaInstanceId: newId,
      status: 'ready',
    });

    await new Promise((r) => setTimeout(r, 5_000));
    expect(eventsOf(t.receiver, 'instance.recreated', instanceId)).toHaveLength(1);
    expect(eventsOf(t.receiver, 'instance.migrated', instanceId)).toHaveLength(0);
    expect(t.sim.sim.callLog({ path: '/gpu/instance/create' }).slice(createsBefore)).toHaveLength(1);
  }, 150_000);

  it('never migrates a user-stopped spot instance, an auto-stopped one or a reclaimed managed: false one', async () => {
    const userStopped = await createReady(svc, t.receiver, 'spot-user-stopped');
    const autoStopped = await createReady(svc, t.receiver, 'spot-auto-stopped');
    const unmanaged = await createReady(svc, t.receiver, 'spot-unmanaged');
    const migrateBefore = t.sim.sim.callLog({ path: '/gpu/instance/migrate' }).length;

    expect((await call('POST', `/api/instances/${userStopped.instanceId}/stop`)).status).toBe(200);
    // Auto-stop stops through Novita's stop like a user does; the platform sees the same plain stop.
    await fetch(`${t.sim.baseUrl}/gpu/instance/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.sim.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ instanceId: autoStopped.novitaInstanceId }),
    });
    await patchRecord(t.redis.url, t.prefix, unmanaged.instanceId, { managed: false });
    t.sim.sim.reclaimSpot(unmanaged.novitaInstanceId);
    await waitEvent(t.receiver, 'instance.stopped', userStopped.instanceId, 30_000);

    // Two quick checks and a full pass.
    await new Promise((r) => setTimeout(r, 21_000));
    const pass = await call('POST', '/api/migration/trigger', {});
    expect(pass.status).toBe(200);
    const outcome = (id: string) =>
      pass.body.instances.find((i: { novitaInstanceId: string }) => i.novitaInstanceId === id);
    expect(outcome(unmanaged.novitaInstanceId)).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/^not_managed/),
    });
    // Plain stops are not reclaims: they are not even listed.
    expect(outcome(userStopped.novitaInstanceId)).toBeUndefined();
    expect(outcome(autoStopped.novitaInstanceId)).toBeUndefined();
    expect(pass.body.summary.migratedInstances).toBe(0);

    expect(t.sim.sim.callLog({ path: '/gpu/instance/migrate' })).toHaveLength(migrateBefore);
    for (const i of [userStopped, autoStopped, unmanaged])
      expect(eventsOf(t.receiver, 'instance.reclaimed', i.instanceId)).toHaveLength(0);
  }, 150_000);
});
