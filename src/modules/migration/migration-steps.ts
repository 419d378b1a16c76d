import { Injectable, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ErrorCode, isAppError } from '../../common/errors';
import { AllConfig, InstancesConfig, MigrationConfig, NovitaConfig } from '../../config/config.types';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { NovitaClient } from '../../infra/novita/novita-client';
import { NovitaInstance, NovitaJob } from '../../infra/novita/novita.types';
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
import { MigrationLogger } from './migration-logger';
import { MigrationRepository } from './migration.repository';

export type StepOutcome = 'waiting' | 'advanced' | 'succeeded' | 'failed' | 'closed' | 'raced';

export type Guarded<T> = { ok: true; value: T } | { ok: false; outcome: StepOutcome };

export type Observation =
  | { kind: 'seen'; instance: NovitaInstance; job: NovitaJob | null }
  | { kind: 'gone' }
  | { kind: 'error'; message: string };

/** One log context for every step of a migration, so a single filter follows it from reclaim to ready. */
export const MIGRATION_LOG_CONTEXT = 'MigrationRunner';

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

/** Jobs are looked up from a little before the migrate call (clock skew between us and Novita). */
const JOB_LOOKBACK_MS = 120_000;

export const iso = (ms: number): string => new Date(ms).toISOString();

export const errorOf = (err: unknown): { code: string; message: string } =>
  isAppError(err)
    ? { code: err.code, message: err.message }
    : { code: ErrorCode.INTERNAL_ERROR, message: err instanceof Error ? err.message : String(err) };

/**
 * What every migration step is built from: the guarded write (the operation unchanged and still the
 * instance's active one, under the instance lock), step transitions, observing Novita, retrying on the
 * next pass, and the ways a migration closes without succeeding (cancelled, instance gone, failed).
 */
@Injectable()
export class MigrationSteps {
  private readonly config: MigrationConfig;
  private readonly instancesConfig: InstancesConfig;
  private readonly novitaConfig: NovitaConfig;
  private readonly log: MigrationLogger;

  constructor(
    private readonly repo: MigrationRepository,
    private readonly instances: InstanceRepository,
    private readonly novita: NovitaClient,
    private readonly events: InstanceEvents,
    configService: ConfigService<AllConfig, true>,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.config = configService.get('migration', { infer: true });
    this.instancesConfig = configService.get('instances', { infer: true });
    this.novitaConfig = configService.get('novita', { infer: true });
    this.log = new MigrationLogger(MIGRATION_LOG_CONTEXT, this.config.logLevel);
  }

  /** How long an intent whose call may still be on its way is left alone before it is retried. */
  get settleMs(): number {
    return this.novitaConfig.timeoutMs + 5_000;
  }

  /** The pause between two passes over one migration. */
  get intervalMs(): number {
    return this.instancesConfig.reconcileIntervalMs;
  }

  /**
   * Runs fn under the instance lock if the operation is unchanged since it was read and still the
   * instance's active operation; otherwise the pass stops (another replica or a request moved it on).
   */
  guard<T>(
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

  withStep(
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

  async retryLater(
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

  async saveObservation(
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

  /** The instance and its latest instanceMigrate job (by id when known, else since the attempt). */
  async observe(novitaId: string, since: number | null, jobId?: string): Promise<Observation> {
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

  /** No recovery left: the instance is marked failed with the reason, and instance.migration_failed goes out once. */
  async finalFail(
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

  async instanceGone(op: OperationRecord, now: number): Promise<StepOutcome> {
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

  async cancel(
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
}

/**
 * Once the operation has recorded a replacement, the record points at it (with its placement), even
 * when the process died between writing the operation and writing the record.
 */
export function withReplacement(record: InstanceRecord, op: OperationRecord): InstanceRecord {
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
