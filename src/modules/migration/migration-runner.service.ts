import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ErrorCode } from '../../common/errors';
import { AllConfig, MigrationConfig } from '../../config/config.types';
import { NovitaClient } from '../../infra/novita/novita-client';
import { StateStore } from '../../infra/store/state-store';
import { applyNovitaObservation } from '../records/instance-observation';
import { InstanceRepository } from '../records/instance.repository';
import { CLOSED_PHASES, MigrationStep, OperationRecord } from '../records/operation.types';
import { isMigrationRefusal } from './migration-eligibility';
import { MigrationLogger } from './migration-logger';
import { MigrationReadiness } from './migration-readiness.service';
import { MigrationRecreation } from './migration-recreation.service';
import { Guarded, MIGRATION_LOG_CONTEXT, MigrationSteps, StepOutcome, errorOf, iso } from './migration-steps';
import { MigrationRepository } from './migration.repository';

export type { StepOutcome } from './migration-steps';

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

const ADMISSION_MUTEX = 'migration-admission';
const BATCH = 50;

/**
 * Advances open migration operations one step per pass, from what is in the store: a process killed
 * at any point carries on from the last written step. Every state-changing Novita call (migrate,
 * create) is preceded by a written intent; an intent whose outcome is unknown is settled by
 * observing Novita (the instance's status and its instanceMigrate job, or the replacement's name),
 * so each migration makes one migrate call and each failure at most one recreation.
 *
 * This class owns the dispatch of each step, admission under MIGRATION_MAX_CONCURRENT, the migrate
 * call with its settling and Novita's migration job; recreation (MigrationRecreation) and the way to
 * ready (MigrationReadiness) are steps of their own, built on the shared MigrationSteps.
 */
@Injectable()
export class MigrationRunner {
  private readonly config: MigrationConfig;
  private readonly log: MigrationLogger;

  constructor(
    private readonly repo: MigrationRepository,
    private readonly instances: InstanceRepository,
    private readonly novita: NovitaClient,
    private readonly store: StateStore,
    private readonly steps: MigrationSteps,
    private readonly recreation: MigrationRecreation,
    private readonly readiness: MigrationReadiness,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.config = configService.get('migration', { infer: true });
    this.log = new MigrationLogger(MIGRATION_LOG_CONTEXT, this.config.logLevel);
  }

  /** How long an intent whose call may still be on its way is left alone before it is retried. */
  get settleMs(): number {
    return this.steps.settleMs;
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
          await this.repo.save({ ...op, lastError: errorOf(err).message }, now + this.steps.intervalMs);
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
        return this.recreation.recreate(op, now);
      case 'delete_old':
        return this.recreation.deleteOld(op, now);
      case 'waiting_running':
      case 'readiness':
        return this.readiness.followToReady(op, now);
      default:
        await this.repo.unschedule(id);
        return 'closed';
    }
  }

  // ---- migrate ----

  /** Takes one of MIGRATION_MAX_CONCURRENT slots (across replicas: under a store mutex), then migrates. */
  private async admit(before: OperationRecord, now: number): Promise<StepOutcome> {
    if (this.config.dryRun) {
      return this.steps.cancel(before, now, 'MIGRATION_DRY_RUN is on: migrations are reported, not made');
    }
    const admitted = await this.store.withMutex(
      ADMISSION_MUTEX,
      async (): Promise<Guarded<OperationRecord> | null> => {
        const open = await this.repo.listOpen();
        const inFlight = open.filter(
          (o) => o.id !== before.id && o.migration && IN_FLIGHT_STEPS.has(o.migration.step),
        ).length;
        if (inFlight >= this.config.maxConcurrent) return null;
        return this.steps.guard(before, async (op, record) => {
          const next = this.steps.withStep(op, 'migrate_intent', now, {
            migrateAttemptAt: now,
          });
          next.deadline = now + this.config.jobTimeoutMs;
          // Written before the call; if we die now, the next pass settles it by observing Novita.
          await this.repo.save(next, now + this.steps.intervalMs);
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
      await this.repo.save(before, now + this.steps.intervalMs);
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
      const due = now + this.steps.intervalMs;
      const g = await this.steps.guard(op, async (cur) => {
        await this.repo.save({ ...cur, lastError: `${e.code}: ${e.message}`, updatedAt: iso(now) }, due);
        return null;
      });
      return g.ok ? 'waiting' : g.outcome;
    }
    const g = await this.steps.guard(op, async (cur) => {
      const next = this.steps.withStep(cur, 'migrating', now, { migrateCalledAt: iso(now) });
      await this.repo.save(next, now + this.steps.intervalMs);
      return next;
    });
    return g.ok ? 'advanced' : g.outcome;
  }

  /** An intent whose call may or may not have reached Novita (we died, or it timed out). */
  private async settleMigrateIntent(op: OperationRecord, now: number): Promise<StepOutcome> {
    const m = op.migration!;
    const obs = await this.steps.observe(m.originalNovitaInstanceId, m.migrateAttemptAt ?? now);
    if (obs.kind === 'error') return this.steps.retryLater(op, now, obs.message);
    if (obs.kind === 'gone') return this.steps.instanceGone(op, now);
    const { instance, job } = obs;
    if (instance.status === 'migrating' || job) {
      const g = await this.steps.guard(op, async (cur) => {
        const next = this.steps.withStep(cur, 'migrating', now, {
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
      return this.readiness.toReadiness(op, instance, now);
    }
    const attemptAt = m.migrateAttemptAt ?? 0;
    // Observed again every interval; only a call that still shows nothing after the window is repeated.
    if (now - attemptAt < this.steps.settleMs) return this.steps.retryLater(op, now, null);
    if (instance.status !== 'exited') {
      // Started by someone else, or moving: not ours to migrate any more.
      return this.steps.cancel(op, now, `the instance is ${instance.status}; no migration needed`, instance);
    }
    // No job and still exited well after the attempt: the call never reached Novita. Attempt again.
    const g = await this.steps.guard(op, async (cur) => {
      const next = this.steps.withStep(cur, 'migrate_intent', now, { migrateAttemptAt: now });
      await this.repo.save(next, now + this.steps.intervalMs);
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
    const obs = await this.steps.observe(m.originalNovitaInstanceId, m.migrateAttemptAt ?? now, m.jobId);
    if (obs.kind === 'error') return this.steps.retryLater(op, now, obs.message);
    if (obs.kind === 'gone') return this.steps.instanceGone(op, now);
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
    if (instance.status === 'running') return this.readiness.toReadiness(op, instance, now, job);
    const g = await this.steps.guard(op, async (cur, record) => {
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
      await this.repo.save(next, now + this.steps.intervalMs);
      return next;
    });
    return g.ok ? 'advanced' : g.outcome;
  }

  // ---- failure: recreate, or mark failed ----

  private async migrationFailed(
    op: OperationRecord,
    failure: { code: string; message: string },
    now: number,
  ): Promise<StepOutcome> {
    this.log.warn({ operationId: op.id, instanceId: op.instanceId, failure }, 'Migration failed');
    if (!this.config.retryFailed) return this.steps.finalFail(op, now, failure);
    const g = await this.steps.guard(op, async (cur, record) => {
      const next = this.steps.withStep(cur, 'recreate_intent', now, {
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
    return this.recreation.recreate(g.value, now);
  }
}
