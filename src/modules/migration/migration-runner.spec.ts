import { AppError, ErrorCode } from '../../common/errors';
import { FakeNovitaClient } from '../../../test/fakes/fake-novita-client';
import { buildInstancesHarness } from '../../../test/fakes/instances-unit-harness';
import { NovitaJob } from '../../infra/novita/novita.types';
import { BackgroundLoop } from '../../infra/scheduling/background-loop.service';
import { NovitaCatalogService } from '../instances/novita-catalog.service';
import { InstanceRecord } from '../records/instance.types';
import { MigrationReadiness } from './migration-readiness.service';
import { MigrationRecreation } from './migration-recreation.service';
import { MigrationRunner } from './migration-runner.service';
import { MigrationSteps } from './migration-steps';
import { MigrationJob } from './migration.job';
import { MigrationRepository } from './migration.repository';
import { MigrationOpener } from './migration-opener';
import { MigrationService } from './migration.service';
import { MigrationViews } from './migration-views';

/** The shared fake plus Novita's jobs list, which the migration follows. */
class JobsNovita extends FakeNovitaClient {
  jobs: NovitaJob[] = [];
  override async listJobs(): Promise<{ jobs: NovitaJob[]; total: number }> {
    await super.listJobs();
    return { jobs: structuredClone(this.jobs), total: this.jobs.length };
  }
}

const T0 = Date.parse('2026-01-01T12:00:00Z');

function setup(env: Record<string, string> = {}) {
  const h = buildInstancesHarness({ MIGRATION_JOB_TIMEOUT_MS: '60000', ...env });
  const novita = new JobsNovita();
  novita.products = h.novita.products;
  const repo = new MigrationRepository(h.store, h.operations);
  const steps = new MigrationSteps(repo, h.repo, novita, h.events, h.configService);
  const runner = new MigrationRunner(
    repo,
    h.repo,
    novita,
    h.store,
    steps,
    new MigrationRecreation(repo, h.repo, novita, new NovitaCatalogService(novita), steps, h.configService),
    new MigrationReadiness(repo, h.repo, h.events, h.prober, steps, h.configService),
    h.configService,
  );
  const loop = new BackgroundLoop(h.store);
  const opener = new MigrationOpener(repo, h.repo, h.operations, h.events, h.configService);
  const service = new MigrationService(repo, h.repo, opener, novita, loop, h.configService);
  const views = new MigrationViews(repo, loop, h.configService);
  return { ...h, novita, migrations: repo, runner, service, views, loop };
}
type Setup = ReturnType<typeof setup>;

async function seedReclaimed(
  s: Setup,
  over: Partial<InstanceRecord> = {},
  novitaId = 'old1',
): Promise<InstanceRecord> {
  s.novita.seed({
    id: novitaId,
    name: over.name ?? 'spot-a',
    status: 'exited',
    spotStatus: 'terminated',
    spotReclaimTime: T0 - 1_000,
    portMappings: [{ port: 8080, type: 'http', endpoint: 'http://sim/8080' }],
  });
  const at = new Date(T0 - 3_600_000).toISOString();
  const record = {
    id: 'inst_a',
    name: 'spot-a',
    novitaInstanceId: novitaId,
    status: 'ready',
    novitaStatus: 'running',
    readiness: 'passed',
    spec: {
      productName: 'RTX 4090 24GB',
      imageUrl: 'ghcr.io/x/web:1',
      ports: [{ port: 8080, type: 'http' }],
      envs: [],
      gpuNum: 1,
      rootfsSize: 50,
      billingMode: 'spot',
      preferredRegion: 'AS-SGP-02',
    },
    region: 'AS-SGP-02',
    clusterId: 'as-sgp-2',
    productId: 'p-sgp',
    productName: 'RTX 4090 24GB',
    billingMode: 'spot',
    price: 0.17,
    gpuNum: 1,
    portMappings: [{ port: 8080, type: 'http', endpoint: 'http://sim/8080' }],
    webhookUrl: 'https://hooks.example.com/a',
    healthCheck: null,
    activeOperationId: null,
    lastError: null,
    statusError: null,
    spotStatus: 'running',
    managed: true,
    createdAt: at,
    updatedAt: at,
    lastSyncedAt: at,
    startedAt: at,
    readyAt: at,
    stoppedAt: null,
    lastUsedAt: null,
    deletedAt: null,
    ...over,
  } as InstanceRecord;
  await s.repo.save(record);
  return record;
}

/** Advances every due migration, at the given clock, until nothing changes. */
async function drive(s: Setup, now: number, rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const id of await s.migrations.due(Number.POSITIVE_INFINITY, 50)) await s.runner.advance(id, now);
  }
}

const calls = (s: Setup, m: Parameters<FakeNovitaClient['callsTo']>[0]) => s.novita.callsTo(m).length;

describe('migration runner (fakes, memory store)', () => {
  it('quick check reads only tracked managed spot instances, then migrates, follows the job and ends ready with instance.migrated', async () => {
    const s = setup();
    await seedReclaimed(s);
    await s.repo.save({
      ...(await s.repo.get('inst_a'))!,
      id: 'inst_od',
      name: 'od',
      novitaInstanceId: 'od1',
      billingMode: 'onDemand',
      spec: { ...(await s.repo.get('inst_a'))!.spec, billingMode: 'onDemand' },
    });
    await s.repo.save({
      ...(await s.repo.get('inst_a'))!,
      id: 'inst_um',
      name: 'um',
      novitaInstanceId: 'um1',
      managed: false,
    });

    const counts = await s.service.checkReclaims(T0);
    expect(counts).toMatchObject({ tracked: 1, reclaimed: 1, started: 1 });
    expect(s.novita.callsTo('getInstance').map((c) => c.args[0])).toEqual(['old1']);
    expect(calls(s, 'listInstances')).toBe(0);
    expect(s.emitter.types()).toEqual(['instance.reclaimed']);
    const queued = await s.repo.get('inst_a');
    expect(queued).toMatchObject({ status: 'migrating', activeOperationId: expect.stringMatching(/^op_/) });

    await drive(s, T0 + 1_000, 1);
    expect(s.novita.callsTo('migrateInstance').map((c) => c.args[0])).toEqual(['old1']);
    s.novita.jobs = [
      { id: 'job1', type: 'instanceMigrate', instanceId: 'old1', state: 'running', createdAt: T0 + 1_000 },
    ];
    await drive(s, T0 + 2_000);
    expect((await s.repo.get('inst_a'))!.status).toBe('migrating');

    s.novita.jobs[0].state = 'success';
    s.novita.setStatus('old1', 'running', { spotReclaimTime: null, spotStatus: 'running' });
    await drive(s, T0 + 5_000);
    expect(await s.repo.get('inst_a')).toMatchObject({
      status: 'ready',
      readiness: 'passed',
      activeOperationId: null,
      novitaInstanceId: 'old1',
    });
    expect(s.emitter.types()).toEqual(['instance.reclaimed', 'instance.migrated']);
    const migrated = s.emitter.emitted[1];
    expect(migrated.instanceWebhookUrl).toBe('https://hooks.example.com/a');
    expect(migrated.data).toMatchObject({
      event: 'instance.migrated',
      instanceId: 'inst_a',
      originalInstanceId: 'inst_a',
      status: 'running',
      migration: {
        reason: 'spot_reclaim',
        triggeredBy: 'automatic_migration',
        migrationTime: 5_000,
        jobId: 'job1',
      },
      instance: { id: 'inst_a', name: 'spot-a', connectionDetails: { endpoints: [{ port: 8080 }] } },
    });
    expect(calls(s, 'migrateInstance')).toBe(1);
    // Detected again by a later check? No: the instance runs, and the next reclaim is inside the eligibility interval.
    expect((await s.service.checkReclaims(T0 + 6_000)).started).toBe(0);
  });

  it('a failed job leads to one recreation in the cheapest region with capacity: old deleted after the new one exists, instance.recreated once', async () => {
    const s = setup();
    s.novita.fullClusters.add('as-sgp-2');
    await seedReclaimed(s);
    await s.service.checkReclaims(T0);
    await drive(s, T0 + 1_000, 1);
    s.novita.jobs = [
      {
        id: 'job1',
        type: 'instanceMigrate',
        instanceId: 'old1',
        state: 'fail',
        error: 'MIGRATE_FAILED',
        createdAt: T0 + 1_000,
      },
    ];
    s.novita.setStatus('old1', 'migrating');
    await drive(s, T0 + 2_000);

    const creates = s.novita.callsTo('createInstance');
    // Preferred AS-SGP-02 is full, so the next region in the fallback order.
    expect(creates.map((c) => (c.args[0] as { clusterId: string }).clusterId)).toEqual([
      'as-sgp-2',
      'cn-hk-1',
    ]);
    expect(creates[1].args[0]).toMatchObject({
      name: 'spot-a',
      imageUrl: 'ghcr.io/x/web:1',
      billingMode: 'spot',
      gpuNum: 1,
      rootfsSize: 50,
    });
    const newId = (await s.repo.get('inst_a'))!.novitaInstanceId!;
    expect(newId).not.toBe('old1');
    const order = s.novita.calls.map((c) => c.method);
    expect(order.lastIndexOf('deleteInstance')).toBeGreaterThan(order.lastIndexOf('createInstance'));
    expect(s.novita.callsTo('deleteInstance').map((c) => c.args[0])).toEqual(['old1']);

    s.novita.setStatus(newId, 'running', {
      portMappings: [{ port: 8080, type: 'http', endpoint: 'http://new/8080' }],
    });
    await drive(s, T0 + 3_000);
    await drive(s, T0 + 4_000);
    expect(await s.repo.get('inst_a')).toMatchObject({
      id: 'inst_a',
      name: 'spot-a',
      novitaInstanceId: newId,
      status: 'ready',
      region: 'CN-HK-01',
      webhookUrl: 'https://hooks.example.com/a',
    });
    expect(s.emitter.types().filter((t) => t === 'instance.recreated')).toHaveLength(1);
    expect(s.emitter.emitted.find((e) => e.type === 'instance.recreated')!.data).toMatchObject({
      migration: {
        originalNovitaInstanceId: 'old1',
        novitaInstanceId: newId,
        migrationFailure: { code: 'MIGRATION_JOB_FAILED' },
      },
    });
    expect(s.novita.callsTo('createInstance')).toHaveLength(2);
  });

  it('a crash between recording the replacement on the operation and on the instance record is caught up by the next step', async () => {
    const s = setup();
    await seedReclaimed(s);
    await s.service.checkReclaims(T0);
    await drive(s, T0 + 1_000, 1);
    s.novita.jobs = [
      { id: 'job1', type: 'instanceMigrate', instanceId: 'old1', state: 'fail', createdAt: T0 + 1_000 },
    ];
    await drive(s, T0 + 2_000);
    const newId = (await s.migrations.listOpen())[0].novitaInstanceId;
    expect(newId).not.toBe('old1');
    // As if the record write after the operation write had been lost.
    await s.repo.save({ ...(await s.repo.get('inst_a'))!, novitaInstanceId: 'old1', region: 'AS-SGP-02' });
    s.novita.setStatus(newId, 'running', {
      portMappings: [{ port: 8080, type: 'http', endpoint: 'http://new/8080' }],
    });
    await drive(s, T0 + 3_000);
    expect(await s.repo.get('inst_a')).toMatchObject({
      novitaInstanceId: newId,
      status: 'ready',
      price: 0.17,
    });
    expect(s.emitter.emitted.find((e) => e.type === 'instance.recreated')!.data).toMatchObject({
      migration: { novitaInstanceId: newId },
      instance: { novitaInstanceId: newId },
    });
  });

  it('MIGRATION_RETRY_FAILED=false: a refused migrate marks the instance failed with the reason, instance.migration_failed, no create', async () => {
    const s = setup({ MIGRATION_RETRY_FAILED: 'false' });
    await seedReclaimed(s);
    await s.service.checkReclaims(T0);
    s.novita.failNext(
      'migrateInstance',
      new AppError(ErrorCode.INSUFFICIENT_RESOURCES, 'MIGRATE_INSUFFICIENT_RESOURCE'),
    );
    await drive(s, T0 + 1_000);
    expect(await s.repo.get('inst_a')).toMatchObject({
      status: 'failed',
      activeOperationId: null,
      lastError: {
        code: 'MIGRATION_REFUSED',
        message: expect.stringContaining('MIGRATE_INSUFFICIENT_RESOURCE'),
      },
    });
    expect(s.emitter.types()).toEqual(['instance.reclaimed', 'instance.migration_failed']);
    expect(calls(s, 'createInstance')).toBe(0);
    expect(calls(s, 'migrateInstance')).toBe(1);
  });

  it('MIGRATION_JOB_TIMEOUT_MS bounds a migration: a job still running after it counts as failed', async () => {
    const s = setup({ MIGRATION_RETRY_FAILED: 'false' });
    await seedReclaimed(s);
    await s.service.checkReclaims(T0);
    await drive(s, T0 + 1_000, 1);
    s.novita.jobs = [
      { id: 'job1', type: 'instanceMigrate', instanceId: 'old1', state: 'running', createdAt: T0 + 1_000 },
    ];
    await drive(s, T0 + 30_000);
    expect((await s.repo.get('inst_a'))!.status).toBe('migrating');
    await drive(s, T0 + 62_000);
    expect(await s.repo.get('inst_a')).toMatchObject({
      status: 'failed',
      lastError: { code: 'MIGRATION_TIMEOUT' },
    });
  });

  it('an intent whose call outcome is unknown is settled by observing Novita: no second migrate call while Novita migrates', async () => {
    const s = setup();
    await seedReclaimed(s);
    await s.service.checkReclaims(T0);
    // The call times out, but Novita did start the migration.
    s.novita.failNext('migrateInstance', new AppError(ErrorCode.UPSTREAM_TIMEOUT, 'timeout'));
    await drive(s, T0 + 1_000, 1);
    s.novita.setStatus('old1', 'migrating');
    s.novita.jobs = [
      { id: 'job1', type: 'instanceMigrate', instanceId: 'old1', state: 'running', createdAt: T0 + 1_000 },
    ];
    await drive(s, T0 + 60_000);
    expect(calls(s, 'migrateInstance')).toBe(1);
    const op = (await s.migrations.listOpen())[0];
    expect(op.migration).toMatchObject({ step: 'migrating', jobId: 'job1' });
  });

  it('an intent whose call never reached Novita is retried once after the settle window, not before', async () => {
    const s = setup();
    await seedReclaimed(s);
    await s.service.checkReclaims(T0);
    s.novita.failNext('migrateInstance', new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, 'connection reset'));
    await drive(s, T0 + 1_000, 1);
    // Still exited, no job: within the window nothing is sent.
    await drive(s, T0 + 5_000);
    expect(calls(s, 'migrateInstance')).toBe(1);
    await drive(s, T0 + 1_000 + s.runner.settleMs + 1);
    expect(calls(s, 'migrateInstance')).toBe(2);
  });

  it('a recreate intent left by a crash adopts the replacement found by name instead of creating a second one', async () => {
    const s = setup();
    await seedReclaimed(s);
    await s.service.checkReclaims(T0);
    await drive(s, T0 + 1_000, 1);
    s.novita.jobs = [
      { id: 'job1', type: 'instanceMigrate', instanceId: 'old1', state: 'fail', createdAt: T0 + 1_000 },
    ];
    // The create reached Novita, then the process died before recording the new id.
    s.novita.failNext('createInstance', new AppError(ErrorCode.UPSTREAM_TIMEOUT, 'timeout'));
    await drive(s, T0 + 2_000, 1);
    expect(calls(s, 'createInstance')).toBe(1);
    s.novita.seed({ id: 'landed', name: 'spot-a', status: 'creating' });
    await drive(s, T0 + 3_000);
    expect(calls(s, 'createInstance')).toBe(1);
    expect((await s.repo.get('inst_a'))!.novitaInstanceId).toBe('landed');
    expect(s.novita.callsTo('deleteInstance').map((c) => c.args[0])).toEqual(['old1']);
  });

  it('MIGRATION_ELIGIBILITY_INTERVAL_HOURS: a second reclaim soon after a migration is reported once, not migrated', async () => {
    const s = setup();
    await seedReclaimed(s);
    await s.migrations.setLastMigrationAt('inst_a', T0 - 3_600_000, 4 * 3_600_000);
    expect((await s.service.checkReclaims(T0)).started).toBe(0);
    expect((await s.service.checkReclaims(T0 + 10_000)).started).toBe(0);
    expect(calls(s, 'migrateInstance')).toBe(0);
    expect(s.emitter.types()).toEqual(['instance.migration_failed']);
    expect(await s.repo.get('inst_a')).toMatchObject({
      status: 'failed',
      lastError: { code: 'MIGRATION_LOOP' },
    });
  });

  it('the full pass adopts a managed instance stuck in migrating with a failed job (started outside this service) and recreates it once', async () => {
    const s = setup();
    await seedReclaimed(s);
    s.novita.setStatus('old1', 'migrating', { spotReclaimTime: null });
    s.novita.jobs = [
      {
        id: 'jobX',
        type: 'instanceMigrate',
        instanceId: 'old1',
        state: 'fail',
        createdAt: Date.now() - 60_000,
      },
    ];
    const ctx = {
      runId: 'run1',
      trigger: 'schedule' as const,
      options: {},
      keepAlive: async () => undefined,
    };
    const pass = await s.service.runPass(ctx);
    expect(pass.counts).toMatchObject({
      totalInstances: 1,
      eligibleInstances: 1,
      migratedInstances: 1,
      errorCount: 0,
    });
    expect((pass.details!.instances as { outcome: string }[])[0]).toMatchObject({
      outcome: 'migration_started',
    });
    // A second pass does not open another one.
    expect((await s.service.runPass({ ...ctx, runId: 'run2' })).counts.migratedInstances).toBe(0);

    await drive(s, Date.now());
    expect(calls(s, 'migrateInstance')).toBe(0);
    expect(calls(s, 'createInstance')).toBe(1);
    expect(s.novita.callsTo('deleteInstance').map((c) => c.args[0])).toEqual(['old1']);
    expect((await s.repo.get('inst_a'))!.novitaInstanceId).not.toBe('old1');
  });

  it('the full pass leaves a migration Novita is still running alone', async () => {
    const s = setup();
    await seedReclaimed(s);
    s.novita.setStatus('old1', 'migrating');
    s.novita.jobs = [
      { id: 'jobY', type: 'instanceMigrate', instanceId: 'old1', state: 'running', createdAt: Date.now() },
    ];
    const pass = await s.service.runPass({
      runId: 'run1',
      trigger: 'schedule',
      options: {},
      keepAlive: async () => undefined,
    });
    expect(pass.counts.migratedInstances).toBe(0);
    expect(await s.migrations.listOpen()).toEqual([]);
  });

  it('with many tracked spot instances the quick check makes one filtered listing instead of one read each', async () => {
    const s = setup();
    const base = await seedReclaimed(s);
    for (let i = 0; i < 21; i++) {
      s.novita.seed({ id: `nv-${i}`, name: `s-${i}`, status: 'running', spotStatus: 'running' });
      await s.repo.save({ ...base, id: `inst_${i}`, name: `s-${i}`, novitaInstanceId: `nv-${i}` });
    }
    const counts = await s.service.checkReclaims(T0);
    expect(counts).toMatchObject({ tracked: 22, reclaimed: 1, started: 1 });
    expect(calls(s, 'getInstance')).toBe(0);
    expect(s.novita.callsTo('listInstances').map((c) => c.args[2])).toEqual([{ status: 'exited' }]);
  });

  it('status, history and the /health block follow the full pass registered on the loop', async () => {
    const s = setup();
    new MigrationJob(s.loop, s.service, s.runner, s.views, s.configService).onModuleInit();
    expect(await s.views.healthBlock()).toEqual({
      enabled: true,
      lastExecution: null,
      nextExecution: expect.any(String),
      status: 'healthy',
      recentErrors: 0,
    });
    await seedReclaimed(s);
    const execution = await s.service.trigger({ dryRun: true });
    expect(execution).toMatchObject({
      status: 'completed',
      dryRun: true,
      triggeredBy: 'manual_trigger',
      summary: { totalInstances: 1, eligibleInstances: 1, migratedInstances: 0, errorCount: 0 },
      instances: [{ instanceId: 'inst_a', outcome: 'would_migrate' }],
    });
    const status = await s.views.status();
    expect(status).toMatchObject({
      enabled: true,
      lastExecution: { id: execution.id, status: 'completed' },
      statistics: {
        totalExecutions: 1,
        successfulExecutions: 1,
        totalInstancesProcessed: 1,
        totalMigrations: 0,
      },
      migrations: { inFlight: 0, queued: 0, open: [] },
    });
    expect(status.statistics.averageExecutionTime).toBeGreaterThan(0);
    expect((await s.views.history(20, 0)).executions.map((e) => e.id)).toEqual([execution.id]);
    expect((await s.views.healthBlock()).lastExecution).toBe(execution.finishedAt);
  });

  it('MIGRATION_DRY_RUN: reclaims are reported, never migrated', async () => {
    const s = setup({ MIGRATION_DRY_RUN: 'true' });
    await seedReclaimed(s);
    expect(await s.service.checkReclaims(T0)).toMatchObject({ reclaimed: 1, started: 0 });
    expect(await s.migrations.listOpen()).toEqual([]);
    expect(s.emitter.types()).toEqual([]);
  });
});
