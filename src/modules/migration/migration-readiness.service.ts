import { Injectable, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig, InstancesConfig, MigrationConfig } from '../../config/config.types';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { NovitaInstance, NovitaJob } from '../../infra/novita/novita.types';
import { ProbeResult, ReadinessProber, selectReadinessTarget } from '../instances/operations/readiness-check';
import { InstanceEvents } from '../records/instance-events';
import { applyNovitaObservation } from '../records/instance-observation';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';
import { OperationRecord } from '../records/operation.types';
import { MigrationLogger } from './migration-logger';
import { migrationEventData } from './migration-payload';
import { MIGRATION_LOG_CONTEXT, MigrationSteps, StepOutcome, iso } from './migration-steps';
import { MigrationRepository } from './migration.repository';

/**
 * The end of every migration, moved or recreated: waiting for the instance to run, the same readiness
 * check a start uses, and success (the instance ready, instance.migrated or instance.recreated once,
 * the statistics and the recent outcomes).
 */
@Injectable()
export class MigrationReadiness {
  private readonly instancesConfig: InstancesConfig;
  private readonly log: MigrationLogger;

  constructor(
    private readonly repo: MigrationRepository,
    private readonly instances: InstanceRepository,
    private readonly events: InstanceEvents,
    private readonly prober: ReadinessProber,
    private readonly steps: MigrationSteps,
    configService: ConfigService<AllConfig, true>,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    const config: MigrationConfig = configService.get('migration', { infer: true });
    this.instancesConfig = configService.get('instances', { infer: true });
    this.log = new MigrationLogger(MIGRATION_LOG_CONTEXT, config.logLevel);
  }

  /** Novita reports the instance running: the readiness check starts, within the instance's wait time. */
  async toReadiness(
    op: OperationRecord,
    instance: NovitaInstance,
    now: number,
    job?: NovitaJob | null,
  ): Promise<StepOutcome> {
    const g = await this.steps.guard(op, async (cur, record) => {
      const next = this.steps.withStep(cur, 'readiness', now, {
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

  /** Waiting for the instance to run (a replacement) and its readiness check, until ready or the deadline. */
  async followToReady(op: OperationRecord, now: number): Promise<StepOutcome> {
    const step = op.migration!.step;
    if (now > op.deadline) {
      const what =
        step === 'readiness' ? 'the readiness check did not pass' : 'the replacement did not reach running';
      return this.steps.finalFail(op, now, { code: 'MIGRATION_NOT_READY', message: `${what} in time` });
    }
    const obs = await this.steps.observe(op.novitaInstanceId, null);
    if (obs.kind === 'error') return this.steps.retryLater(op, now, obs.message);
    if (obs.kind === 'gone') return this.steps.instanceGone(op, now);
    const { instance } = obs;
    if (instance.status !== 'running') {
      const statusError = instance.statusError?.message;
      if (
        step === 'waiting_running' &&
        statusError &&
        !['creating', 'pending', 'toCreate', 'pulling'].includes(instance.status)
      ) {
        return this.steps.finalFail(op, now, {
          code: 'RECREATE_FAILED',
          message: `Novita reports: ${statusError}`,
        });
      }
      return this.steps.saveObservation(
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
      return this.steps.finalFail(op, now, { code: 'MIGRATION_NOT_READY', message: target.reason });
    if (target.kind === 'skip') return this.succeed(op, instance, now, { readiness: 'skipped' });
    if (target.kind === 'wait')
      return this.steps.saveObservation(op, instance, now, op, this.instancesConfig.readinessIntervalMs);
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
    return this.steps.saveObservation(op, instance, now, probed, this.instancesConfig.readinessIntervalMs);
  }

  private async succeed(
    op: OperationRecord,
    instance: NovitaInstance,
    now: number,
    result: { readiness: 'passed' | 'skipped'; endpoint?: string; httpStatus?: number },
    before: OperationRecord = op,
  ): Promise<StepOutcome> {
    const g = await this.steps.guard(before, async (_cur, record) => {
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

  private readinessWaitMs(record: InstanceRecord): number {
    return record.healthCheck?.maxWaitTimeMs ?? this.instancesConfig.startupTimeoutMs;
  }
}
