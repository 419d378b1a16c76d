import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig, MigrationConfig } from '../../config/config.types';
import { BackgroundLoop } from '../../infra/scheduling/background-loop.service';
import { RunSummary } from '../../infra/scheduling/job.types';
import { OperationRecord } from '../records/operation.types';
import { IN_FLIGHT_STEPS } from './migration-runner.service';
import { MigrationRepository } from './migration.repository';
import { ExecutionSummary, InstanceOutcomeEntry, MIGRATION_PASS_JOB } from './migration.service';

const RECENT_EXECUTIONS_FOR_ERRORS = 10;

/**
 * What spot recovery reports: /api/migration/status and /history (the full pass's runs, kept by the
 * background loop, with the migration counters and open operations) and the /health block.
 */
@Injectable()
export class MigrationViews {
  private readonly config: MigrationConfig;

  constructor(
    private readonly repo: MigrationRepository,
    private readonly loop: BackgroundLoop,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.config = configService.get('migration', { infer: true });
  }

  async status(): Promise<MigrationStatusView> {
    const [job, stats, open, recent] = await Promise.all([
      this.loop.status(MIGRATION_PASS_JOB),
      this.repo.stats(),
      this.repo.listOpen(),
      this.repo.recent(),
    ]);
    const last = job.lastRun ? toExecutionView(job.lastRun) : null;
    return {
      enabled: this.config.enabled,
      dryRun: this.config.dryRun,
      status: this.healthStatus(job.lastRun, job.nextRunAt),
      isRunning: job.running !== null,
      lastExecution: last,
      nextExecution: job.nextRunAt,
      statistics: {
        totalExecutions: stats.totalExecutions,
        successfulExecutions: stats.successfulExecutions,
        failedExecutions: stats.totalExecutions - stats.successfulExecutions,
        totalMigrations: stats.totalMigrations,
        totalInstancesProcessed: stats.totalInstancesProcessed,
        averageExecutionTime:
          stats.totalExecutions > 0 ? Math.round(stats.executionTimeMsTotal / stats.totalExecutions) : 0,
        migrationsSucceeded: stats.migrationsSucceeded,
        migrationsRecreated: stats.migrationsRecreated,
        migrationsFailed: stats.migrationsFailed,
      },
      configuration: {
        enabled: this.config.enabled,
        intervalMinutes: this.config.intervalMinutes,
        reclaimCheckIntervalSeconds: this.config.reclaimCheckIntervalSeconds,
        jobTimeoutMs: this.config.jobTimeoutMs,
        maxConcurrent: this.config.maxConcurrent,
        dryRun: this.config.dryRun,
        retryFailed: this.config.retryFailed,
        logLevel: this.config.logLevel,
        eligibilityIntervalHours: this.config.eligibilityIntervalHours,
      },
      migrations: {
        inFlight: open.filter((o) => o.migration && IN_FLIGHT_STEPS.has(o.migration.step)).length,
        queued: open.filter((o) => o.migration?.step === 'queued').length,
        open: open.map(toOpenMigrationView),
        recent: recent.slice(0, 20),
      },
    };
  }

  async history(
    limit: number,
    offset: number,
  ): Promise<{ executions: ExecutionView[]; total: number; limit: number; offset: number }> {
    const { history } = await this.loop.status(MIGRATION_PASS_JOB);
    return {
      executions: history.slice(offset, offset + limit).map(toExecutionView),
      total: history.length,
      limit,
      offset,
    };
  }

  /** The spec's /health block. */
  async healthBlock(): Promise<{
    enabled: boolean;
    lastExecution: string | null;
    nextExecution: string | null;
    status: 'healthy' | 'unhealthy' | 'disabled';
    recentErrors: number;
  }> {
    const job = await this.loop.status(MIGRATION_PASS_JOB);
    const recentErrors = job.history
      .slice(0, RECENT_EXECUTIONS_FOR_ERRORS)
      .reduce((n, run) => n + (run.outcome === 'failed' ? 1 : Number(run.counts.errorCount ?? 0)), 0);
    return {
      enabled: this.config.enabled,
      lastExecution: job.lastRun?.finishedAt ?? null,
      nextExecution: job.nextRunAt,
      status: this.healthStatus(job.lastRun, job.nextRunAt),
      recentErrors,
    };
  }

  /** disabled; unhealthy when the last pass failed or the schedule is more than one interval late; else healthy. */
  private healthStatus(
    lastRun: RunSummary | null,
    nextRunAt: string | null,
  ): 'healthy' | 'unhealthy' | 'disabled' {
    if (!this.config.enabled) return 'disabled';
    if (lastRun?.outcome === 'failed') return 'unhealthy';
    const intervalMs = this.config.intervalMinutes * 60_000;
    if (lastRun && Date.now() - Date.parse(lastRun.startedAt) > 2 * intervalMs + 60_000) return 'unhealthy';
    if (!lastRun && nextRunAt === null) return 'unhealthy';
    return 'healthy';
  }
}

export interface ExecutionView {
  id: string;
  jobId: string;
  trigger: RunSummary['trigger'];
  triggeredBy: string;
  /** completed, completed_with_errors or failed. */
  status: 'completed' | 'completed_with_errors' | 'failed';
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  duration: number;
  summary: ExecutionSummary;
  instances: InstanceOutcomeEntry[];
  error?: string;
}

export function toExecutionView(run: RunSummary): ExecutionView {
  const d = (run.details ?? {}) as {
    dryRun?: boolean;
    triggeredBy?: string;
    instances?: InstanceOutcomeEntry[];
  };
  const c = run.counts;
  return {
    id: run.id,
    jobId: run.id,
    trigger: run.trigger,
    triggeredBy: d.triggeredBy ?? (run.trigger === 'manual' ? 'manual_trigger' : 'automatic_migration'),
    status:
      run.outcome === 'succeeded'
        ? 'completed'
        : run.outcome === 'partial'
          ? 'completed_with_errors'
          : 'failed',
    dryRun: d.dryRun ?? false,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    duration: run.durationMs,
    summary: {
      totalInstances: c.totalInstances ?? 0,
      eligibleInstances: c.eligibleInstances ?? 0,
      migratedInstances: c.migratedInstances ?? 0,
      errorCount: c.errorCount ?? 0,
    },
    instances: d.instances ?? [],
    ...(run.error ? { error: run.error } : {}),
  };
}

export interface OpenMigrationView {
  operationId: string;
  instanceId: string;
  novitaInstanceId: string;
  originalNovitaInstanceId: string;
  step: string;
  phase: string;
  triggeredBy: string;
  detectedAt: string;
  deadline: string;
  jobId: string | null;
  jobState: string | null;
  failure: { code: string; message: string } | null;
  lastError: string | null;
}

function toOpenMigrationView(op: OperationRecord): OpenMigrationView {
  const m = op.migration!;
  return {
    operationId: op.id,
    instanceId: op.instanceId,
    novitaInstanceId: op.novitaInstanceId,
    originalNovitaInstanceId: m.originalNovitaInstanceId,
    step: m.step,
    phase: op.phase,
    triggeredBy: m.triggeredBy,
    detectedAt: m.detectedAt,
    deadline: new Date(op.deadline).toISOString(),
    jobId: m.jobId ?? null,
    jobState: m.jobState ?? null,
    failure: m.failure ? { code: m.failure.code, message: m.failure.message } : null,
    lastError: op.lastError ?? null,
  };
}

export interface MigrationStatusView {
  enabled: boolean;
  dryRun: boolean;
  status: 'healthy' | 'unhealthy' | 'disabled';
  isRunning: boolean;
  lastExecution: ExecutionView | null;
  nextExecution: string | null;
  statistics: {
    totalExecutions: number;
    successfulExecutions: number;
    failedExecutions: number;
    totalMigrations: number;
    totalInstancesProcessed: number;
    averageExecutionTime: number;
    migrationsSucceeded: number;
    migrationsRecreated: number;
    migrationsFailed: number;
  };
  configuration: Record<string, unknown>;
  migrations: {
    inFlight: number;
    queued: number;
    open: OpenMigrationView[];
    recent: unknown[];
  };
}
