import { Injectable, Optional } from '@nestjs/common';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { ConfigService } from '@nestjs/config';
import { ErrorCode, isAppError } from '../../common/errors';
import { AllConfig, InstancesConfig, MigrationConfig, NovitaConfig } from '../../config/config.types';
import { NovitaClient } from '../../infra/novita/novita-client';
import { NovitaInstance, NovitaJob } from '../../infra/novita/novita.types';
import { StateStore } from '../../infra/store/state-store';
import { NovitaCatalogService } from '../instances/novita-catalog.service';
import { ProbeResult, ReadinessProber, selectReadinessTarget } from '../instances/operations/readiness-check';
import { InstanceEvents } from '../records/instance-events';
import { applyNovitaObservation, markTerminated } from '../records/instance-observation';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';
import {
  CLOSED_PHASES,
  MigrationProgress,
  MigrationStep,
  OperationPhase,
  OperationRecord,
} from '../records/operation.types';
import { isMigrationRefusal } from './migration-eligibility';
import { MigrationLogger } from './migration-logger';
import { migrationEventData } from './migration-payload';
import { MigrationRepository } from './migration.repository';

export type StepOutcome = 'waiting' | 'advanced' | 'succeeded' | 'failed' | 'closed' | 'raced';

export interface RunnerSummary {
  checked: number;
  advanced: number;
  succeeded: number;
  failed: number;
  errors: number;
}

/** Steps during which Novita is working on a migration or a replacement: these count against MIGRATION_MAX_CONCURRENT. */
export const IN_FLIGHT_STEPS: ReadonlySet<MigrationStep> = new Set([
  'migrate_intent',
  'migrating',
  'recreate_intent',
  'delete_old',
  'waiting_running',
]);

const PHASE_OF: Record<MigrationStep, OperationPhase> = {
  queued: 'intent',
  migrate_intent: 'intent',
  migrating: 'migrating',
  recreate_intent: 'intent',
  delete_old: 'recreating',
  waiting_running: 'waiting_running',
  readiness: 'readiness',
  done: 'succeeded',
};

const ADMISSION_MUTEX = 'migration-admission';
const BATCH = 50;
/** Create attempts per recreation whose outcome was a definite "no" or unknown, before giving up. */
const MAX_RECREATE_ATTEMPTS = 3;
/** Jobs are looked up from a little before the migrate call (clock skew between us and Novita). */
const JOB_LOOKBACK_MS = 120_000;

type Observation =
  | { kind: 'seen'; instance: NovitaInstance; job: NovitaJob | null }
  | { kind: 'gone' }
  | { kind: 'error'; message: string };

type Guarded<T> = { ok: true; value: T } | { ok: false; outcome: StepOutcome };

const errorOf = (err: unknown): { code: string; message: string } =>
  isAppError(err)
    ? { code: err.code, message: err.message }
    : { code: ErrorCode.INTERNAL_ERROR, message: err instanceof Error ? err.message : String(err) };

/**
 * Advances open migration operations one step per pass, from what is in the store: a process killed
 * at any point carries on from the last written step. Every state-changing Novita call (migrate,
 * create) is preceded by a written intent; an intent whose outcome is unknown is settled by
 * observing Novita (the instance's status and its instanceMigrate job, or the replacement's name),
 * so each migration makes one migrate call and each failure at most one recreation.
 */
@Injectable()
export class MigrationRunner {
  private readonly config: MigrationConfig;
  private readonly instancesConfig: InstancesConfig;
  private readonly novitaConfig: NovitaConfig;
  private readonly log: MigrationLogger;

  constructor(
    private readonly repo: MigrationRepository,
    private readonly instances: InstanceRepository,
    private readonly novita: NovitaClient,
    private readonly events: InstanceEvents,
    private readonly prober: ReadinessProber,
    private readonly catalog: NovitaCatalogService,
    private readonly store: StateStore,
    configService: ConfigService<AllConfig, true>,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.config = configService.get('migration', { infer: true });
    this.instancesConfig = configService.get('instances', { infer: true });
    this.novitaConfig = configService.get('novita', { infer: true });
    this.log = new MigrationLogger(MigrationRunner.name, this.config.logLevel);
  }

  /** How long an intent whose call may still be on its way is left alone before it is retried. */
  get settleMs(): number {
    return this.novitaConfig.timeoutMs + 5_000;
  }

  async runOnce(now: number = Date.now()): Promise<RunnerSummary> {
    const summary: RunnerSummary = { checked: 0, advanced: 0, succeeded: 0, failed: 0, errors: 0 };
    for (const id of await this.repo.due(now, BATCH)) {
      summary.checked++;
      try {
        const outcome = await this.advance(id, Date.now());
        if (outcome === 'succeeded') summary.succeeded++;
        else if (outcome === 'failed') summary.failed++;
        else if (outcome === 'advanced') summary.advanced++;
      } catch (err) {
        summary.errors++;
        this.log.warn({ operationId: id, err: errorOf(err) }, 'Migration step failed; retrying next pass');
        // Retry after the usual interval rather than on every tick.
        const op = await this.repo.get(id).catch(() => null);
        if (op && !CLOSED_PHASES.has(op.phase))
          await this.repo.save({ ...op, lastError: errorOf(err).message }, now + this.intervalMs);
      }
    }
    return summary;
  }

  /** One step of one migration. Public for tests. */
  async advance(id: string, now: number): Promise<StepOutcome> {
    const op = await this.repo.get(id);
    if (!op || CLOSED_PHASES.has(op.phase) || !op.migration) {
      await this.repo.unschedule(id);
      return 'closed';
    }
    switch (op.migration.step) {
      case 'queued':
        return this.admit(op, now);
      case 'migrate_intent':
        return this.settleMigrateIntent(op, now);
      case 'migrating':
        return this.followJob(op, now);
      case 'recreate_intent':
        return this.recreate(op, now);
      case 'delete_old':
        return this.deleteOld(op, now);
      case 'waiting_running':
      case 'readiness':
        return this.followToReady(op, now);
      default:
        await this.repo.unschedule(id);
        return 'closed';
    }
  }

  private get intervalMs(): number {
    return this.instancesConfig.reconcileIntervalMs;
  }

  // ---- migrate ----

  /** Takes one of MIGRATION_MAX_CONCURRENT slots (across replicas: under a store mutex), then migrates. */
  private async admit(before: OperationRecord, now: number): Promise<StepOutcome> {
    if (this.config.dryRun) {
      return this.cancel(before, now, 'MIGRATION_DRY_RUN is on: migrations are reported, not made');
    }
    const admitted = await this.store.withMutex(
      ADMISSION_MUTEX,
      async (): Promise<Guarded<OperationRecord> | null> => {
        const open = await this.repo.listOpen();
        const inFlight = open.filter(
          (o) => o.id !== before.id && o.migration && IN_FLIGHT_STEPS.has(o.migration.step),
        ).length;
        if (inFlight >= this.config.maxConcurrent) return null;
        return this.guard(before, async (op, record) => {
          const next = this.withStep(op, 'migrate_intent', now, {
            migrateAttemptAt: now,
          });
          next.deadline = now + this.config.jobTimeoutMs;
          // Written before the call; if we die now, the next pass settles it by observing Novita.
          await this.repo.save(next, now + this.intervalMs);
          await this.instances.save({
            ...record,
            activeOperationId: op.id,
            status: 'migrating',
            updatedAt: iso(now),
          });
          await this.repo.setLastMigrationAt(
            record.id,
            now,
            this.config.eligibilityIntervalHours * 3_600_000,
          );
          return next;
        });
      },
      { ttlMs: 15_000, waitMs: 5_000 },
    );
    if (admitted === null) {
      await this.repo.save(before, now + this.intervalMs);
      this.log.debug({ operationId: before.id }, 'Migration queued: concurrency limit reached');
      return 'waiting';
    }
    if (!admitted.ok) return admitted.outcome;
    return this.callMigrate(admitted.value, now);
  }

  private async callMigrate(op: OperationRecord, now: number): Promise<StepOutcome> {
    const m = op.migration!;
    this.log.info(
      { operationId: op.id, instanceId: op.instanceId, novitaInstanceId: m.originalNovitaInstanceId },
      'Migrating reclaimed spot instance',
    );
    try {
      await this.novita.migrateInstance(m.originalNovitaInstanceId);
    } catch (err) {
      const e = errorOf(err);
      if (isMigrationRefusal(e.code) && e.code !== ErrorCode.INVALID_STATE) {
        return this.migrationFailed(
          op,
          { code: 'MIGRATION_REFUSED', message: `Novita refused the migration: ${e.message}` },
          now,
        );
      }
      // Unknown outcome (timeout, 5xx) or a state conflict: the intent is settled by observing Novita.
      this.log.warn({ operationId: op.id, err: e }, 'Migrate call outcome unknown; settling by observation');
      const due = now + this.intervalMs;
      const g = await this.guard(op, async (cur) => {
        await this.repo.save({ ...cur, lastError: `${e.code}: ${e.message}`, updatedAt: iso(now) }, due);
        return null;
      });
      return g.ok ? 'waiting' : g.outcome;
    }
    const g = await this.guard(op, async (cur) => {
      const next = this.withStep(cur, 'migrating', now, { migrateCalledAt: iso(now) });
      await this.repo.save(next, now + this.intervalMs);
      return next;
    });
    return g.ok ? 'advanced' : g.outcome;
  }

  /** An intent whose call may or may not have reached Novita (we died, or it timed out). */
  private async settleMigrateIntent(op: OperationRecord, now: number): Promise<StepOutcome> {
    const m = op.migration!;
    const obs = await this.observe(m.originalNovitaInstanceId, m.migrateAttemptAt ?? now);
    if (obs.kind === 'error') return this.retryLater(op, now, obs.message);
    if (obs.kind === 'gone') return this.instanceGone(op, now);
    const { instance, job } = obs;
    if (instance.status === 'migrating' || job) {
      const g = await this.guard(op, async (cur) => {
        const next = this.withStep(cur, 'migrating', now, {
          migrateCalledAt: cur.migration!.migrateCalledAt ?? iso(cur.migration!.migrateAttemptAt ?? now),
          ...(job ? { jobId: job.id, jobState: job.state } : {}),
        });
        await this.repo.save(next, now);
        return next;
      });
      this.log.info({ operationId: op.id }, 'Migrate intent settled: Novita is migrating');
      return g.ok ? 'advanced' : g.outcome;
    }
    if (instance.status === 'running' && instance.spotReclaimTime === null) {
      return this.toReadiness(op, instance, now);
    }
    const attemptAt = m.migrateAttemptAt ?? 0;
    // Observed again every interval; only a call that still shows nothing after the window is repeated.
    if (now - attemptAt < this.settleMs) return this.retryLater(op, now, null);
    if (instance.status !== 'exited') {
      // Started by someone else, or moving: not ours to migrate any more.
      return this.cancel(op, now, `the instance is ${instance.status}; no migration needed`, instance);
    }
    // No job and still exited well after the attempt: the call never reached Novita. Attempt again.
    const g = await this.guard(op, async (cur) => {
      const next = this.withStep(cur, 'migrate_intent', now, { migrateAttemptAt: now });
      await this.repo.save(next, now + this.intervalMs);
      return next;
    });
    if (!g.ok) return g.outcome;
    return this.callMigrate(g.value, now);
  }

  /** Follows Novita's instanceMigrate job and the instance until it runs, fails or times out. */
  private async followJob(op: OperationRecord, now: number): Promise<StepOutcome> {
    const m = op.migration!;
    if (now > op.deadline) {
      return this.migrationFailed(
        op,
        {
          code: 'MIGRATION_TIMEOUT',
          message: `Novita's migration did not finish within ${this.config.jobTimeoutMs} ms`,
        },
        now,
      );
    }
    const obs = await this.observe(m.originalNovitaInstanceId, m.migrateAttemptAt ?? now, m.jobId);
    if (obs.kind === 'error') return this.retryLater(op, now, obs.message);
    if (obs.kind === 'gone') return this.instanceGone(op, now);
    const { instance, job } = obs;
    if (job && (job.state === 'fail' || job.state === 'break')) {
      return this.migrationFailed(
        op,
        {
          code: 'MIGRATION_JOB_FAILED',
          message: `Novita's migration job ${job.id} ended in ${job.state}${job.error ? `: ${job.error}` : ''}`,
        },
        now,
      );
    }
    if (instance.status === 'running') return this.toReadiness(op, instance, now, job);
    const g = await this.guard(op, async (cur, record) => {
      await this.instances.save({
        ...applyNovitaObservation(record, instance, new Date(now)),
        status: 'migrating',
        activeOperationId: cur.id,
      });
      const next: OperationRecord = {
        ...cur,
        polls: cur.polls + 1,
        lastError: undefined,
        migration: { ...cur.migration!, ...(job ? { jobId: job.id, jobState: job.state } : {}) },
        updatedAt: iso(now),
      };
      await this.repo.save(next, now + this.intervalMs);
      return next;
    });
    return g.ok ? 'advanced' : g.outcome;
  }

  private async toReadiness(
    op: OperationRecord,
    instance: NovitaInstance,
    now: number,
    job?: NovitaJob | null,
  ): Promise<StepOutcome> {
    const g = await this.guard(op, async (cur, record) => {
      const next = this.withStep(cur, 'readiness', now, {
        runningAt: iso(now),
        ...(job ? { jobId: job.id, jobState: job.state } : {}),
      });
      next.runningAt = iso(now);
      next.deadline = now + this.readinessWaitMs(record);
      await this.repo.save(next, now);
      await this.instances.save({
        ...applyNovitaObservation(record, instance, new Date(now)),
        readiness: 'pending',
        status: 'running',
        activeOperationId: cur.id,
      });
      return next;
    });
    return g.ok ? 'advanced' : g.outcome;
  }

  // ---- running → ready (the same readiness check a start uses) ----

  private async followToReady(op: OperationRecord, now: number): Promise<StepOutcome> {
    const step = op.migration!.step;
    if (now > op.deadline) {
      const what =
        step === 'readiness' ? 'the readiness check did not pass' : 'the replacement did not reach running';
      return this.finalFail(op, now, { code: 'MIGRATION_NOT_READY', message: `${what} in time` });
    }
    const obs = await this.observe(op.novitaInstanceId, null);
    if (obs.kind === 'error') return this.retryLater(op, now, obs.message);
    if (obs.kind === 'gone') return this.instanceGone(op, now);
    const { instance } = obs;
    if (instance.status !== 'running') {
      const statusError = instance.statusError?.message;
      if (
        step === 'waiting_running' &&
        statusError &&
        !['creating', 'pending', 'toCreate', 'pulling'].includes(instance.status)
      ) {
        return this.finalFail(op, now, {
          code: 'RECREATE_FAILED',
          message: `Novita reports: ${statusError}`,
        });
      }
      return this.saveObservation(
        op,
        instance,
        now,
        step === 'readiness'
          ? { ...op, migration: { ...op.migration!, step: 'waiting_running' }, phase: 'waiting_running' }
          : op,
      );
    }
    if (step === 'waiting_running') return this.toReadiness(op, instance, now);

    const target = selectReadinessTarget(instance.portMappings, op.readiness);
    if (target.kind === 'invalid')
      return this.finalFail(op, now, { code: 'MIGRATION_NOT_READY', message: target.reason });
    if (target.kind === 'skip') return this.succeed(op, instance, now, { readiness: 'skipped' });
    if (target.kind === 'wait')
      return this.saveObservation(op, instance, now, op, this.instancesConfig.readinessIntervalMs);
    const probe: ProbeResult = await this.prober.probe(target.url, op.readiness.timeoutMs);
    const attempt = {
      at: iso(now),
      endpoint: target.url,
      ok: probe.ok,
      durationMs: probe.durationMs,
      ...(probe.httpStatus !== undefined ? { httpStatus: probe.httpStatus } : {}),
      ...(probe.error ? { error: probe.error } : {}),
    };
    const probed: OperationRecord = { ...op, attempts: op.attempts + 1, lastCheck: attempt };
    if (probe.ok) {
      return this.succeed(
        probed,
        instance,
        now,
        {
          readiness: 'passed',
          endpoint: target.url,
          httpStatus: probe.httpStatus,
        },
        op,
      );
    }
    return this.saveObservation(op, instance, now, probed, this.instancesConfig.readinessIntervalMs);
  }

  private async succeed(
    op: OperationRecord,
    instance: NovitaInstance,
    now: number,
    result: { readiness: 'passed' | 'skipped'; endpoint?: string; httpStatus?: number },
    before: OperationRecord = op,
  ): Promise<StepOutcome> {
    const g = await this.guard(before, async (_cur, record) => {
      const at = new Date(now);
      const m = op.migration!;
      const recreated = !!m.recreate?.newNovitaInstanceId;
      const closed: OperationRecord = {
        ...op,
        phase: 'succeeded',
        result,
        updatedAt: at.toISOString(),
        migration: {
          ...m,
          step: 'done',
          completedAt: at.toISOString(),
          migrationTimeMs: Math.max(0, now - Date.parse(m.detectedAt)),
        },
      };
      const ready: InstanceRecord = {
        ...applyNovitaObservation(record, instance, at),
        readiness: result.readiness,
        status: 'ready',
        readyAt: at.toISOString(),
        activeOperationId: null,
        lastError: null,
      };
      const event = recreated ? 'instance.recreated' : 'instance.migrated';
      // Event first, with a dedupe key: a step replayed after a crash yields the same single event.
      await this.events.emit(event, ready, {
        dedupeKey: `${op.id}:${event}`,
        operation: closed,
        extra: migrationEventData(event, ready, closed, at),
      });
      await this.instances.save(ready);
      await this.repo.close(closed);
      await this.repo.addStats(recreated ? { migrationsRecreated: 1 } : { migrationsSucceeded: 1 });
      this.metrics?.recordMigration(recreated ? 'recreated' : 'migrated');
      await this.repo.addRecent({
        operationId: op.id,
        instanceId: record.id,
        name: record.name,
        outcome: recreated ? 'recreated' : 'migrated',
        originalNovitaInstanceId: m.originalNovitaInstanceId,
        novitaInstanceId: ready.novitaInstanceId,
        detectedAt: m.detectedAt,
        completedAt: at.toISOString(),
        migrationTimeMs: closed.migration!.migrationTimeMs ?? null,
      });
      this.log.info(
        {
          operationId: op.id,
          instanceId: record.id,
          novitaInstanceId: ready.novitaInstanceId,
          originalNovitaInstanceId: m.originalNovitaInstanceId,
          migrationTimeMs: closed.migration!.migrationTimeMs,
        },
        recreated ? 'Instance recreated after a failed migration and ready' : 'Instance migrated and ready',
      );
      return null;
    });
    return g.ok ? 'succeeded' : g.outcome;
  }

  // ---- failure: recreate, or mark failed ----

  private async migrationFailed(
    op: OperationRecord,
    failure: { code: string; message: string },
    now: number,
  ): Promise<StepOutcome> {
    this.log.warn({ operationId: op.id, instanceId: op.instanceId, failure }, 'Migration failed');
    if (!this.config.retryFailed) return this.finalFail(op, now, failure);
    const g = await this.guard(op, async (cur, record) => {
      const next = this.withStep(cur, 'recreate_intent', now, {
        failure: { ...failure, at: iso(now) },
        recreate: { attempts: 0 },
      });
      next.deadline = now + this.config.jobTimeoutMs;
      await this.repo.save(next, now);
      await this.instances.save({
        ...record,
        activeOperationId: cur.id,
        status: 'migrating',
        lastError: { ...failure, at: iso(now) },
        updatedAt: iso(now),
      });
      return next;
    });
    if (!g.ok) return g.outcome;
    return this.recreate(g.value, now);
  }

  /** One recreation from the stored spec through the normal product selection; the create call is written ahead. */
  private async recreate(op: OperationRecord, now: number): Promise<StepOutcome> {
    const record = await this.instances.get(op.instanceId);
    if (!record) return this.cancel(op, now, 'the instance record is gone');
    const rc = op.migration!.recreate ?? { attempts: 0 };
    if (rc.attemptAt !== undefined) {
      let found: NovitaInstance | null;
      try {
        found = await this.findReplacement(record.name, op.migration!.originalNovitaInstanceId);
      } catch (err) {
        return this.retryLater(op, now, errorOf(err).message);
      }
      if (found) return this.adoptReplacement(op, found.id, now);
      if (now - rc.attemptAt < this.settleMs) return this.retryLater(op, now, null);
    }
    if (rc.attempts >= MAX_RECREATE_ATTEMPTS) {
      return this.finalFail(op, now, {
        code: 'RECREATE_FAILED',
        message: `no replacement after ${rc.attempts} create attempts`,
      });
    }
    const spec = record.spec;
    let plan;
    try {
      plan = (await this.catalog.planFor(spec, this.instancesConfig.regionFallbackOrder)).plan;
    } catch (err) {
      return this.retryLater(op, now, errorOf(err).message);
    }
    let current = op;
    const reasons: string[] = [];
    for (const entry of plan) {
      if (!entry.candidate) {
        reasons.push(`${entry.region}: ${entry.reason}`);
        continue;
      }
      const c = entry.candidate;
      const written = await this.guard(current, async (cur) => {
        const prev = cur.migration!.recreate ?? { attempts: 0 };
        const next = this.withStep(cur, 'recreate_intent', now, {
          recreate: {
            ...prev,
            attempts: prev.attempts + 1,
            attemptAt: Date.now(),
            region: c.region,
            clusterId: c.clusterId,
            productId: c.product.id,
            unitPrice: c.unitPrice,
          },
        });
        await this.repo.save(next, Date.now() + this.intervalMs);
        return next;
      });
      if (!written.ok) return written.outcome;
      current = written.value;
      try {
        const { id } = await this.novita.createInstance({
          name: record.name,
          productId: c.product.id,
          clusterId: c.clusterId,
          gpuNum: spec.gpuNum,
          rootfsSize: spec.rootfsSize,
          imageUrl: spec.imageUrl,
          ...(spec.imageAuthId ? { imageAuthId: spec.imageAuthId } : {}),
          ports: spec.ports,
          envs: spec.envs,
          command: spec.command,
          billingMode: spec.billingMode,
          kind: 'gpu',
        });
        const adopted = await this.adoptReplacement(current, id, now);
        if (adopted === 'closed') await this.discardReplacement(op, id);
        return adopted;
      } catch (err) {
        const e = errorOf(err);
        if (e.code === ErrorCode.INSUFFICIENT_RESOURCES) {
          reasons.push(`${entry.region}: Novita answered insufficient resources for ${c.product.id}`);
          // A definite no: nothing to settle for this attempt.
          const cleared = await this.guard(current, async (cur) => {
            const next = this.withStep(cur, 'recreate_intent', now, {
              recreate: { ...cur.migration!.recreate!, attemptAt: undefined },
            });
            await this.repo.save(next, now + this.intervalMs);
            return next;
          });
          if (!cleared.ok) return cleared.outcome;
          current = cleared.value;
          continue;
        }
        if (
          [ErrorCode.UPSTREAM_BAD_REQUEST, ErrorCode.UNAUTHORIZED_UPSTREAM, ErrorCode.NOT_FOUND].includes(
            e.code as ErrorCode,
          )
        ) {
          return this.finalFail(current, now, {
            code: 'RECREATE_FAILED',
            message: `Novita refused the create: ${e.message}`,
          });
        }
        // Unknown outcome: the next pass looks the name up on Novita before trying again.
        this.log.warn({ operationId: op.id, err: e }, 'Create outcome unknown; settling by name');
        return 'waiting';
      }
    }
    return this.finalFail(current, now, {
      code: 'RECREATE_FAILED',
      message: `no capacity for ${spec.productName} (${spec.billingMode}) in any region: ${reasons.join('; ')}`,
    });
  }

  /** The migration was cancelled (deleted or stopped by a user) while the create was on its way: no orphan is left. */
  private async discardReplacement(op: OperationRecord, novitaId: string): Promise<void> {
    this.log.warn(
      { operationId: op.id, novitaInstanceId: novitaId },
      'Migration cancelled during recreation; deleting the replacement',
    );
    await this.novita
      .deleteInstance(novitaId)
      .catch((err: unknown) =>
        this.log.error(
          { operationId: op.id, novitaInstanceId: novitaId, err: errorOf(err) },
          'Could not delete the unused replacement',
        ),
      );
  }

  /** The replacement created by an earlier attempt: same name, another Novita id, not on its way out. */
  private async findReplacement(name: string, originalId: string): Promise<NovitaInstance | null> {
    const page = await this.novita.listInstances(1, 100, { name });
    const gone = new Set(['toRemove', 'removing', 'removed']);
    return page.instances.find((i) => i.name === name && i.id !== originalId && !gone.has(i.status)) ?? null;
  }

  private async adoptReplacement(op: OperationRecord, newId: string, now: number): Promise<StepOutcome> {
    const g = await this.guard(op, async (cur, record) => {
      const rc = cur.migration!.recreate ?? { attempts: 1 };
      const next = this.withStep(cur, 'delete_old', now, {
        recreate: { ...rc, attemptAt: undefined, newNovitaInstanceId: newId },
      });
      next.novitaInstanceId = newId;
      await this.repo.save(next, now);
      // Operation first: from here on every step points the record at the replacement (withReplacement).
      await this.instances.save({ ...withReplacement(record, next), updatedAt: iso(now) });
      return next;
    });
    if (!g.ok) return g.outcome;
    this.log.info(
      {
        operationId: op.id,
        instanceId: op.instanceId,
        novitaInstanceId: newId,
        originalNovitaInstanceId: op.migration!.originalNovitaInstanceId,
      },
      'Replacement instance created',
    );
    return this.deleteOld(g.value, now);
  }

  /** The old Novita instance goes only once the replacement exists (its id is recorded by now). */
  private async deleteOld(op: OperationRecord, now: number): Promise<StepOutcome> {
    const oldId = op.migration!.originalNovitaInstanceId;
    try {
      await this.novita.deleteInstance(oldId);
    } catch (err) {
      if (!(isAppError(err) && err.code === ErrorCode.NOT_FOUND))
        return this.retryLater(op, now, errorOf(err).message);
    }
    const g = await this.guard(op, async (cur) => {
      const next = this.withStep(cur, 'waiting_running', now, {
        recreate: { ...cur.migration!.recreate!, oldDeletedAt: iso(now) },
      });
      next.deadline = now + this.instancesConfig.startupTimeoutMs;
      await this.repo.save(next, now + this.intervalMs);
      return next;
    });
    return g.ok ? 'advanced' : g.outcome;
  }

  /** No recovery left: the instance is marked failed with the reason, and instance.migration_failed goes out once. */
  private async finalFail(
    op: OperationRecord,
    now: number,
    error: { code: string; message: string },
  ): Promise<StepOutcome> {
    const g = await this.guard(op, async (cur, record) => {
      const at = iso(now);
      const m = cur.migration!;
      const closed: OperationRecord = {
        ...cur,
        phase: 'failed',
        error,
        updatedAt: at,
        migration: { ...m, completedAt: at },
      };
      const failed: InstanceRecord = {
        ...record,
        status: record.status === 'terminated' ? 'terminated' : 'failed',
        activeOperationId: null,
        lastError: { ...error, at },
        updatedAt: at,
      };
      this.metrics?.recordMigration('failed');
      await this.events.emit('instance.migration_failed', failed, {
        dedupeKey: `${cur.id}:migration_failed`,
        operation: closed,
        reason: error.message,
        extra: {
          migration: {
            reason: m.reason,
            triggeredBy: m.triggeredBy,
            operationId: cur.id,
            error,
            ...(m.failure ? { migrationFailure: m.failure } : {}),
            originalNovitaInstanceId: m.originalNovitaInstanceId,
            novitaInstanceId: failed.novitaInstanceId,
            retryFailed: this.config.retryFailed,
          },
        },
      });
      await this.instances.save(failed);
      await this.repo.close(closed);
      await this.repo.addStats({ migrationsFailed: 1 });
      await this.repo.addRecent({
        operationId: cur.id,
        instanceId: record.id,
        name: record.name,
        outcome: 'failed',
        originalNovitaInstanceId: m.originalNovitaInstanceId,
        novitaInstanceId: failed.novitaInstanceId,
        detectedAt: m.detectedAt,
        completedAt: at,
        migrationTimeMs: null,
        error,
      });
      return null;
    });
    this.log.error({ operationId: op.id, instanceId: op.instanceId, error }, 'Spot recovery failed');
    return g.ok ? 'failed' : g.outcome;
  }

  private async instanceGone(op: OperationRecord, now: number): Promise<StepOutcome> {
    const g = await this.guard(op, async (cur, record) => {
      const at = iso(now);
      await this.instances.save({ ...markTerminated(record, new Date(now)), activeOperationId: null });
      await this.repo.close({
        ...cur,
        phase: 'cancelled',
        error: { code: 'INSTANCE_GONE', message: 'the instance no longer exists on Novita' },
        updatedAt: at,
      });
      return null;
    });
    return g.ok ? 'closed' : g.outcome;
  }

  private async cancel(
    op: OperationRecord,
    now: number,
    message: string,
    observed?: NovitaInstance,
  ): Promise<StepOutcome> {
    const g = await this.guard(op, async (cur, record) => {
      const at = iso(now);
      const base = observed ? applyNovitaObservation(record, observed, new Date(now)) : record;
      await this.instances.save({ ...base, activeOperationId: null, updatedAt: at });
      await this.repo.close({
        ...cur,
        phase: 'cancelled',
        error: { code: 'CANCELLED', message },
        updatedAt: at,
      });
      return null;
    });
    this.log.info({ operationId: op.id, reason: message }, 'Migration cancelled');
    return g.ok ? 'closed' : g.outcome;
  }

  // ---- helpers ----

  /**
   * Runs fn under the instance lock if the operation is unchanged since it was read and still the
   * instance's active operation; otherwise the pass stops (another replica or a request moved it on).
   */
  private guard<T>(
    before: OperationRecord,
    fn: (op: OperationRecord, record: InstanceRecord) => Promise<T>,
  ): Promise<Guarded<T>> {
    return this.instances.withInstanceLock(before.instanceId, async (): Promise<Guarded<T>> => {
      const op = await this.repo.get(before.id);
      if (!op || CLOSED_PHASES.has(op.phase)) {
        await this.repo.unschedule(before.id);
        return { ok: false, outcome: 'closed' };
      }
      if (JSON.stringify(op) !== JSON.stringify(before)) return { ok: false, outcome: 'raced' };
      const record = await this.instances.get(op.instanceId);
      if (!record || record.status === 'deleted') {
        await this.repo.close({
          ...op,
          phase: 'cancelled',
          error: { code: 'CANCELLED', message: 'the instance was deleted' },
          updatedAt: new Date().toISOString(),
        });
        return { ok: false, outcome: 'closed' };
      }
      if (record.activeOperationId && record.activeOperationId !== op.id) {
        await this.repo.close({
          ...op,
          phase: 'cancelled',
          error: { code: 'CANCELLED', message: `superseded by operation ${record.activeOperationId}` },
          updatedAt: new Date().toISOString(),
        });
        return { ok: false, outcome: 'closed' };
      }
      // A crash between writing the operation and the record leaves the record behind: catch it up.
      return { ok: true, value: await fn(op, withReplacement({ ...record, activeOperationId: op.id }, op)) };
    });
  }

  private withStep(
    op: OperationRecord,
    step: MigrationStep,
    now: number,
    patch: Partial<MigrationProgress>,
  ): OperationRecord {
    return {
      ...op,
      phase: PHASE_OF[step],
      lastError: undefined,
      updatedAt: iso(now),
      migration: { ...op.migration!, ...patch, step },
    };
  }

  private async retryLater(
    op: OperationRecord,
    now: number,
    message: string | null,
    dueAt = now + this.intervalMs,
  ): Promise<StepOutcome> {
    const g = await this.guard(op, async (cur) => {
      await this.repo.save(
        { ...cur, ...(message ? { lastError: message } : {}), polls: cur.polls + 1, updatedAt: iso(now) },
        dueAt,
      );
      return null;
    });
    return g.ok ? 'waiting' : g.outcome;
  }

  private async saveObservation(
    before: OperationRecord,
    instance: NovitaInstance,
    now: number,
    next: OperationRecord,
    delayMs = this.intervalMs,
  ): Promise<StepOutcome> {
    const g = await this.guard(before, async (_cur, record) => {
      const observed = applyNovitaObservation(record, instance, new Date(now));
      await this.instances.save({
        ...observed,
        ...(instance.status === 'running' ? { status: 'running', readiness: 'pending' } : {}),
        activeOperationId: before.id,
      });
      await this.repo.save({ ...next, polls: next.polls + 1, updatedAt: iso(now) }, now + delayMs);
      return null;
    });
    return g.ok ? 'advanced' : g.outcome;
  }

  private readinessWaitMs(record: InstanceRecord): number {
    return record.healthCheck?.maxWaitTimeMs ?? this.instancesConfig.startupTimeoutMs;
  }

  /** The instance and its latest instanceMigrate job (by id when known, else since the attempt). */
  private async observe(novitaId: string, since: number | null, jobId?: string): Promise<Observation> {
    let instance: NovitaInstance;
    try {
      instance = await this.novita.getInstance(novitaId);
    } catch (err) {
      if (isAppError(err) && err.code === ErrorCode.NOT_FOUND) return { kind: 'gone' };
      const e = errorOf(err);
      return { kind: 'error', message: `${e.code}: ${e.message}` };
    }
    if (since === null) return { kind: 'seen', instance, job: null };
    try {
      // By id once known; before that, this instance's jobs since the attempt (older jobs belong to earlier reclaims).
      const { jobs } = await this.novita.listJobs(
        jobId ? { jobId } : { type: 'instanceMigrate', startTime: since - JOB_LOOKBACK_MS },
        1,
        100,
      );
      const mine = jobs
        .filter((j) => (jobId ? j.id === jobId : j.instanceId === novitaId))
        .filter((j) => jobId || (j.createdAt ?? since) >= since - JOB_LOOKBACK_MS)
        .sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
      return { kind: 'seen', instance, job: mine[0] ?? null };
    } catch (err) {
      const e = errorOf(err);
      return { kind: 'error', message: `${e.code}: ${e.message}` };
    }
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Once the operation has recorded a replacement, the record points at it (with its placement), even
 * when the process died between writing the operation and writing the record.
 */
function withReplacement(record: InstanceRecord, op: OperationRecord): InstanceRecord {
  const rc = op.migration?.recreate;
  if (!rc?.newNovitaInstanceId || record.novitaInstanceId === rc.newNovitaInstanceId) return record;
  return {
    ...record,
    novitaInstanceId: rc.newNovitaInstanceId,
    region: rc.region ?? record.region,
    clusterId: rc.clusterId ?? record.clusterId,
    productId: rc.productId ?? record.productId,
    ...(rc.unitPrice !== undefined
      ? { price: Math.round(rc.unitPrice * record.gpuNum * 100_000) / 100_000 }
      : {}),
    status: 'creating',
    novitaStatus: null,
    readiness: null,
    portMappings: [],
    statusError: null,
  };
}
