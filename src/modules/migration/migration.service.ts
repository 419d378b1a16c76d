import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode, isAppError } from '../../common/errors';
import { AllConfig, MigrationConfig } from '../../config/config.types';
import { NovitaClient } from '../../infra/novita/novita-client';
import { NovitaInstance, NovitaJob } from '../../infra/novita/novita.types';
import { BackgroundLoop } from '../../infra/scheduling/background-loop.service';
import { PassContext, PassInProgressError, PassResult } from '../../infra/scheduling/job.types';
import { applyNovitaObservation } from '../records/instance-observation';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord, isManaged } from '../records/instance.types';
import { isSpotReclaim, isTrackedSpot } from './migration-eligibility';
import { MigrationLogger } from './migration-logger';
import { MigrationRepository } from './migration.repository';
import { ExecutionView, toExecutionView } from './migration-views';
import { MigrationOpener, PassOptions } from './migration-opener';

export const MIGRATION_PASS_JOB = 'migration-pass';
export const RECLAIM_CHECK_JOB = 'migration-reclaim-check';
export const MIGRATION_RUNNER_JOB = 'migration-runner';

/** Above this many tracked spot instances, the quick check lists exited instances instead of reading each. */
const PER_INSTANCE_READ_LIMIT = 20;
/** Per-instance outcomes kept with one execution in the history. */
const OUTCOMES_KEPT = 100;

export type InstanceOutcome = 'migration_started' | 'would_migrate' | 'deferred' | 'skipped' | 'error';

export interface InstanceOutcomeEntry {
  novitaInstanceId: string;
  instanceId: string | null;
  name: string;
  outcome: InstanceOutcome;
  reason?: string;
  operationId?: string;
}

export interface ExecutionSummary {
  totalInstances: number;
  eligibleInstances: number;
  migratedInstances: number;
  errorCount: number;
}

/**
 * Spot recovery: finds reclaimed managed spot instances (a quick check of the tracked ones every
 * MIGRATION_RECLAIM_CHECK_INTERVAL_SECONDS, and the spec's full pass over the account every
 * MIGRATION_INTERVAL_MINUTES); MigrationOpener opens one migration operation per reclaim, and the
 * MigrationRunner carries each to ready. MigrationViews answers /api/migration/status, /history and the /health block.
 */
@Injectable()
export class MigrationService {
  private readonly config: MigrationConfig;
  private readonly log: MigrationLogger;

  constructor(
    private readonly repo: MigrationRepository,
    private readonly instances: InstanceRepository,
    private readonly opener: MigrationOpener,
    private readonly novita: NovitaClient,
    private readonly loop: BackgroundLoop,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.config = configService.get('migration', { infer: true });
    this.log = new MigrationLogger(MigrationService.name, this.config.logLevel);
  }

  // ---- detection ----

  /**
   * The quick check: reads only the managed spot instances this service tracks (one GET each, or one
   * filtered list of exited instances when there are many), so its cost grows with the spot
   * instances, not with the account.
   */
  async checkReclaims(
    now: number = Date.now(),
  ): Promise<{ tracked: number; reclaimed: number; started: number; errors: number }> {
    const records = (await this.instances.listSpotCandidates()).filter(isTrackedSpot);
    const candidates: InstanceRecord[] = [];
    for (const r of records) {
      if (await this.opener.hasOpenMigration(r)) continue;
      candidates.push(r);
    }
    const counts = { tracked: candidates.length, reclaimed: 0, started: 0, errors: 0 };
    if (candidates.length === 0) return counts;

    const observed = new Map<string, NovitaInstance>();
    if (candidates.length > PER_INSTANCE_READ_LIMIT) {
      for await (const n of this.novita.listAllInstances({ status: 'exited' })) observed.set(n.id, n);
    } else {
      for (const r of candidates) {
        try {
          observed.set(r.novitaInstanceId!, await this.novita.getInstance(r.novitaInstanceId!));
        } catch (err) {
          // A missing instance is sync's business; other errors: the next check tries again.
          if (!(isAppError(err) && err.code === ErrorCode.NOT_FOUND)) counts.errors++;
        }
      }
    }
    for (const r of candidates) {
      const n = observed.get(r.novitaInstanceId!);
      if (!n || !isSpotReclaim(n)) continue;
      counts.reclaimed++;
      try {
        const res = await this.opener.startMigration(
          r,
          n,
          {
            dryRun: this.config.dryRun,
            maxMigrations: null,
            triggeredBy: 'automatic_migration',
          },
          now,
        );
        if (res.outcome === 'migration_started') counts.started++;
      } catch (err) {
        counts.errors++;
        this.log.warn({ instanceId: r.id, err: String(err) }, 'Could not open a migration');
      }
    }
    if (counts.started > 0)
      await this.repo.addStats({ totalMigrations: counts.started, totalInstancesProcessed: counts.started });
    return counts;
  }

  // ---- the full pass (spec: every MIGRATION_INTERVAL_MINUTES over the whole account) ----

  /** Registered as the periodic job's run(); a manual trigger passes its options through the loop. */
  async runPass(ctx: PassContext): Promise<PassResult> {
    const manual =
      ctx.trigger === 'manual' && ctx.options.triggeredBy ? (ctx.options as unknown as PassOptions) : null;
    const opts: PassOptions = manual ?? {
      dryRun: this.config.dryRun,
      maxMigrations: null,
      triggeredBy: 'automatic_migration',
    };
    const started = Date.now();
    let result: PassResult;
    try {
      result = await this.pass(ctx, opts);
    } catch (err) {
      result = {
        counts: { totalInstances: 0, eligibleInstances: 0, migratedInstances: 0, errorCount: 1 },
        outcome: 'failed',
        error: err instanceof Error ? err.message : String(err),
        details: { dryRun: opts.dryRun, triggeredBy: opts.triggeredBy, instances: [] },
      };
    }
    const c = result.counts;
    await this.repo
      .addStats({
        totalExecutions: 1,
        successfulExecutions: result.outcome === 'failed' ? 0 : 1,
        totalInstancesProcessed: c.totalInstances ?? 0,
        totalMigrations: c.migratedInstances ?? 0,
        executionTimeMsTotal: Math.max(1, Date.now() - started),
      })
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'Could not record migration statistics'));
    const level = result.outcome === 'failed' ? 'error' : 'info';
    this.log[level](
      {
        jobId: ctx.runId,
        duration: Date.now() - started,
        summary: c,
        dryRun: opts.dryRun,
        error: result.error,
      },
      'Migration job completed',
    );
    return result;
  }

  private async pass(ctx: PassContext, opts: PassOptions): Promise<PassResult> {
    const records = await this.instances.listAll();
    const byNovitaId = new Map<string, InstanceRecord>();
    for (const r of records)
      if (r.novitaInstanceId && r.status !== 'deleted') byNovitaId.set(r.novitaInstanceId, r);

    const summary: ExecutionSummary = {
      totalInstances: 0,
      eligibleInstances: 0,
      migratedInstances: 0,
      errorCount: 0,
    };
    const outcomes: InstanceOutcomeEntry[] = [];
    const jobs = new FailedJobLookup(this.novita);
    let started = 0;
    for await (const n of this.novita.listAllInstances()) {
      summary.totalInstances++;
      if (summary.totalInstances % 50 === 0) await ctx.keepAlive();
      if (n.status === 'migrating') {
        const outcome = await this.checkStuckMigration(n, byNovitaId.get(n.id) ?? null, opts, jobs);
        if (outcome) {
          outcomes.push(outcome);
          if (outcome.outcome === 'migration_started' || outcome.outcome === 'would_migrate') {
            summary.eligibleInstances++;
            if (outcome.outcome === 'migration_started') summary.migratedInstances++;
          }
          if (outcome.outcome === 'error') summary.errorCount++;
        }
        continue;
      }
      // Only reclaims are worth a line in the history; every other instance is simply counted.
      if (!isSpotReclaim(n)) continue;
      const record = byNovitaId.get(n.id) ?? null;
      const entry: InstanceOutcomeEntry = {
        novitaInstanceId: n.id,
        instanceId: record?.id ?? null,
        name: record?.name ?? n.name,
        outcome: 'skipped',
      };
      outcomes.push(entry);
      if (!record) {
        entry.reason = 'not_tracked: not an instance of this service';
        continue;
      }
      const limitReached = opts.maxMigrations !== null && started >= opts.maxMigrations;
      try {
        const res = limitReached
          ? ({ outcome: 'deferred' } as const)
          : await this.opener.startMigration(record, n, opts);
        if (res.outcome === 'skipped') {
          entry.reason = res.reason;
          if (res.reason.startsWith('migration_in_progress')) summary.eligibleInstances++;
          continue;
        }
        summary.eligibleInstances++;
        entry.outcome = res.outcome;
        if (res.outcome === 'deferred') entry.reason = `maxMigrations (${opts.maxMigrations}) reached`;
        if (res.outcome === 'migration_started') {
          entry.operationId = res.operationId;
          started++;
          summary.migratedInstances++;
        }
        if (res.outcome === 'would_migrate') started++;
      } catch (err) {
        summary.errorCount++;
        entry.outcome = 'error';
        entry.reason = isAppError(err) ? `${err.code}: ${err.message}` : String(err);
      }
    }
    return {
      counts: { ...summary },
      outcome: summary.errorCount > 0 ? 'partial' : 'succeeded',
      details: {
        dryRun: opts.dryRun,
        triggeredBy: opts.triggeredBy,
        maxMigrations: opts.maxMigrations,
        instances: outcomes.slice(0, OUTCOMES_KEPT),
      },
    };
  }

  /**
   * A managed instance left in `migrating` by a migration this service does not follow (started in
   * Novita's console, by Novita's auto-migration, or before this service ran) whose job failed: it is
   * adopted as a migration operation at its failed job, so the usual failure handling (recreation, or
   * marking it failed) applies. A job still running is left to Novita.
   */
  private async checkStuckMigration(
    n: NovitaInstance,
    record: InstanceRecord | null,
    opts: PassOptions,
    jobs: FailedJobLookup,
  ): Promise<InstanceOutcomeEntry | null> {
    if (!record || !isManaged(record) || record.status === 'deleted') return null;
    if (record.activeOperationId && (await this.opener.activeOperation(record))) return null;
    const entry: InstanceOutcomeEntry = {
      novitaInstanceId: n.id,
      instanceId: record.id,
      name: record.name,
      outcome: 'skipped',
    };
    try {
      const job = await jobs.latestFor(n.id);
      if (!job || (job.state !== 'fail' && job.state !== 'break')) return null;
      entry.reason = `failed migration job ${job.id} (${job.state})`;
      if (opts.dryRun) {
        entry.outcome = 'would_migrate';
        return entry;
      }
      const opened = await this.instances.withInstanceLock(record.id, async () => {
        const fresh = await this.instances.get(record.id);
        if (!fresh || (await this.opener.activeOperation(fresh))) return null;
        const now = Date.now();
        const op = this.opener.newOperation(fresh, n, opts, now);
        op.phase = 'migrating';
        op.migration = {
          ...op.migration!,
          step: 'migrating',
          migrateAttemptAt: job.createdAt ?? now,
          jobId: job.id,
          jobState: job.state,
        };
        await this.repo.save(op, now);
        await this.instances.save({
          ...applyNovitaObservation(fresh, n, new Date(now)),
          status: 'migrating',
          activeOperationId: op.id,
        });
        return op.id;
      });
      if (!opened) return null;
      entry.outcome = 'migration_started';
      entry.operationId = opened;
      this.log.info(
        { instanceId: record.id, novitaInstanceId: n.id, jobId: job.id },
        'Adopted a failed migration',
      );
      return entry;
    } catch (err) {
      entry.outcome = 'error';
      entry.reason = isAppError(err) ? `${err.code}: ${err.message}` : String(err);
      return entry;
    }
  }

  /** POST /api/migration/trigger: a full pass now, on this replica; 409 while one runs anywhere. */
  async trigger(input: { dryRun?: boolean; maxMigrations?: number }): Promise<ExecutionView> {
    // MIGRATION_DRY_RUN wins: with it on, nothing migrates, whatever the request says.
    const dryRun = this.config.dryRun || (input.dryRun ?? false);
    if (!this.config.enabled && !dryRun) {
      throw new AppError(
        ErrorCode.FEATURE_DISABLED,
        'Spot migration is disabled (MIGRATION_ENABLED=false); only dry runs can be triggered',
      );
    }
    const options: PassOptions = {
      dryRun,
      maxMigrations: input.maxMigrations ?? null,
      triggeredBy: 'manual_trigger',
    };
    try {
      return toExecutionView(await this.loop.runNow(MIGRATION_PASS_JOB, { ...options }));
    } catch (err) {
      if (err instanceof PassInProgressError) throw this.inProgress(err);
      throw err;
    }
  }

  private inProgress(err: PassInProgressError): AppError {
    return new AppError(ErrorCode.OPERATION_IN_PROGRESS, 'A migration pass is already running', {
      ...(err.runId ? { executionId: err.runId } : {}),
    });
  }
}

/** Novita's instanceMigrate jobs of the last 24 hours, fetched once per pass and only if needed. */
class FailedJobLookup {
  private jobs: NovitaJob[] | null = null;

  constructor(private readonly novita: NovitaClient) {}

  async latestFor(novitaId: string): Promise<NovitaJob | null> {
    if (!this.jobs) {
      this.jobs = [];
      const since = Date.now() - 24 * 3_600_000;
      for (let page = 1; page <= 10; page++) {
        const { jobs, total } = await this.novita.listJobs(
          { type: 'instanceMigrate', startTime: since },
          page,
          100,
        );
        this.jobs.push(...jobs);
        if (jobs.length < 100 || this.jobs.length >= total) break;
      }
    }
    const mine = this.jobs.filter((j) => j.instanceId === novitaId);
    mine.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
    return mine[0] ?? null;
  }
}
