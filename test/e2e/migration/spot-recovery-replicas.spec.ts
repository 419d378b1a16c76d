import { ServiceProcess } from '../../support/service-process';
import {
  MIGRATING_MS,
  MigrationE2e,
  api,
  createReady,
  eventsOf,
  startMigrationE2e,
  waitEvent,
  waitFor,
} from './migration-e2e.harness';

const FAST = { MIGRATION_RECLAIM_CHECK_INTERVAL_SECONDS: '2', MIGRATION_MAX_CONCURRENT: '2' };

// Dry runs, a SIGKILL in the middle of a migration, and three replicas sharing one Redis.
describe('spot recovery: dry run, restart and replicas (e2e, Redis)', () => {
  let t: MigrationE2e;
  const migrateCallsFor = (novitaId: string) =>
    t.sim.sim
      .callLog({ path: '/gpu/instance/migrate' })
      .filter((c) => (c.body as { instanceId: string }).instanceId === novitaId);

  beforeAll(async () => {
    t = await startMigrationE2e('e2e-spot-replicas');
    t.sim.sim.setCapacity(undefined, 'RTX 4090 24GB', 64);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  let target: { instanceId: string; novitaInstanceId: string };
  let current: ServiceProcess;

  it('trigger with dryRun lists the eligible instance and makes no migrate call (MIGRATION_ENABLED=false)', async () => {
    const svc = await t.start({ MIGRATION_ENABLED: 'false' });
    const call = api(svc);
    target = await createReady(svc, t.receiver, 'spot-dry');
    t.sim.sim.reclaimSpot(target.novitaInstanceId);

    const dry = await call('POST', '/api/migration/trigger', { dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      dryRun: true,
      status: 'completed',
      summary: { eligibleInstances: 1, migratedInstances: 0, errorCount: 0 },
    });
    expect(dry.body.instances).toEqual([
      expect.objectContaining({
        instanceId: target.instanceId,
        novitaInstanceId: target.novitaInstanceId,
        name: 'spot-dry',
        outcome: 'would_migrate',
      }),
    ]);
    const refused = await call('POST', '/api/migration/trigger', { dryRun: false });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('FEATURE_DISABLED');
    expect((await call('POST', '/api/migration/trigger', { maxMigrations: 0 })).status).toBe(400);
    const status = await call('GET', '/api/migration/status');
    expect(status.body).toMatchObject({ enabled: false, status: 'disabled', nextExecution: null });

    await new Promise((r) => setTimeout(r, 3_000));
    expect(migrateCallsFor(target.novitaInstanceId)).toHaveLength(0);
    expect(eventsOf(t.receiver, 'instance.reclaimed', target.instanceId)).toHaveLength(0);
    await svc.kill('SIGTERM');
  }, 150_000);

  it('SIGKILL right after the migrate call: after a restart the migration completes with one migrate call and each event once', async () => {
    const first = await t.start(FAST);
    await waitFor(async () => migrateCallsFor(target.novitaInstanceId).length > 0, 30_000, 20);
    await first.kill('SIGKILL');

    const second = await t.start(FAST);
    current = second;
    await waitEvent(t.receiver, 'instance.migrated', target.instanceId, 60_000);
    expect(migrateCallsFor(target.novitaInstanceId)).toHaveLength(1);
    const got = await api(second)('GET', `/api/instances/${target.instanceId}`);
    expect(got.body).toMatchObject({
      status: 'ready',
      novitaInstanceId: target.novitaInstanceId,
      name: 'spot-dry',
    });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(eventsOf(t.receiver, 'instance.reclaimed', target.instanceId)).toHaveLength(1);
    expect(eventsOf(t.receiver, 'instance.migrated', target.instanceId)).toHaveLength(1);
    expect(migrateCallsFor(target.novitaInstanceId)).toHaveLength(1);
  }, 180_000);

  it('SIGKILL right after the create call of a recreation: after a restart one replacement, old one deleted, recreated once', async () => {
    const victim = await createReady(current, t.receiver, 'spot-recreate-kill');
    const createsFor = () =>
      t.sim.sim
        .callLog({ path: '/gpu/instance/create' })
        .filter((c) => (c.body as { name: string }).name === 'spot-recreate-kill');
    expect(createsFor()).toHaveLength(1);
    t.sim.sim.failNextMigration(victim.novitaInstanceId);
    t.sim.sim.reclaimSpot(victim.novitaInstanceId);
    await waitFor(async () => createsFor().length > 1, 60_000, 20);
    await current.kill('SIGKILL');

    current = await t.start(FAST);
    const recreated = await waitEvent(t.receiver, 'instance.recreated', victim.instanceId, 90_000);
    const newId = (recreated.payload as { data: any }).data.migration.novitaInstanceId;
    expect(newId).not.toBe(victim.novitaInstanceId);
    expect(createsFor()).toHaveLength(2);
    expect(migrateCallsFor(victim.novitaInstanceId)).toHaveLength(1);
    // The kill may land after the delete and before its step was recorded: a repeated delete answers
    // not found, which counts as deleted. Every delete comes after the replacement's create.
    const deletes = t.sim.sim
      .callLog({ path: '/gpu/instance/delete' })
      .filter((c) => (c.body as { instanceId: string }).instanceId === victim.novitaInstanceId);
    expect(deletes.filter((d) => d.status === 200)).toHaveLength(1);
    for (const d of deletes) expect(d.at).toBeGreaterThanOrEqual(createsFor()[1].at);
    expect(t.sim.sim.getInstance(victim.novitaInstanceId)?.status ?? 'removed').toMatch(
      /^(toRemove|removing|removed)$/,
    );
    const got = await api(current)('GET', `/api/instances/${victim.instanceId}`);
    expect(got.body).toMatchObject({ name: 'spot-recreate-kill', novitaInstanceId: newId, status: 'ready' });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(eventsOf(t.receiver, 'instance.recreated', victim.instanceId)).toHaveLength(1);
    expect(eventsOf(t.receiver, 'instance.reclaimed', victim.instanceId)).toHaveLength(1);
    expect(createsFor()).toHaveLength(2);
  }, 240_000);

  it('three replicas, MIGRATION_MAX_CONCURRENT=2, five reclaims: one migrate call each, never more than 2 in flight, all five ready', async () => {
    const replicas: ServiceProcess[] = [];
    // The replica from the previous test is one of the three.
    for (let i = 0; i < 2; i++) replicas.push(await t.start(FAST));
    const created: { instanceId: string; novitaInstanceId: string }[] = [];
    for (let i = 0; i < 5; i++)
      created.push(await createReady(replicas[i % 2], t.receiver, `spot-many-${i}`));

    const before = t.sim.sim.callLog({ path: '/gpu/instance/migrate' }).length;
    for (const c of created) t.sim.sim.reclaimSpot(c.novitaInstanceId);
    for (const c of created) await waitEvent(t.receiver, 'instance.migrated', c.instanceId, 90_000);

    const calls = t.sim.sim.callLog({ path: '/gpu/instance/migrate' }).slice(before);
    for (const c of created) expect(migrateCallsFor(c.novitaInstanceId)).toHaveLength(1);
    expect(calls).toHaveLength(5);
    // A migration is in flight from its call until its job ends MIGRATING_MS (simulated) later.
    for (const c of calls) {
      const overlapping = calls.filter((o) => o.at <= c.at && c.at < o.at + MIGRATING_MS);
      expect(overlapping.length).toBeLessThanOrEqual(2);
    }
    for (const c of created) {
      const got = await api(replicas[0])('GET', `/api/instances/${c.instanceId}`);
      expect(got.body).toMatchObject({ status: 'ready', novitaStatus: 'running' });
      expect(eventsOf(t.receiver, 'instance.migrated', c.instanceId)).toHaveLength(1);
    }
  }, 300_000);
});
