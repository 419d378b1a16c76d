import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig, InstancesConfig, MigrationConfig } from '../../config/config.types';
import { NovitaInstance } from '../../infra/novita/novita.types';
import { InstanceEvents } from '../records/instance-events';
import { applyNovitaObservation } from '../records/instance-observation';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';
import { newOperationId, resolveHealthCheck } from '../records/operation.factory';
import { OperationRepository } from '../records/operation.repository';
import { CLOSED_PHASES, OperationRecord } from '../records/operation.types';
import { migrationEligibility } from './migration-eligibility';
import { MigrationLogger } from './migration-logger';
import { MigrationRepository } from './migration.repository';

export interface PassOptions {
  dryRun: boolean;
  maxMigrations: number | null;
  triggeredBy: 'automatic_migration' | 'manual_trigger';
}

export type StartResult =
  | { outcome: 'migration_started'; operationId: string }
  | { outcome: 'would_migrate' }
  | { outcome: 'skipped'; reason: string };

/**
 * Opens the migration of one reclaimed instance: the eligibility rules, the instance.reclaimed event
 * and the migrate operation (the intent the MigrationRunner then carries out), or the refusal of a
 * migration loop. Used alike by the quick reclaim check and the full pass (MigrationService), which
 * only find the reclaims.
 */
@Injectable()
export class MigrationOpener {
  private readonly config: MigrationConfig;
  private readonly instancesConfig: InstancesConfig;
  private readonly log: MigrationLogger;
  /** Reclaims already reported in dry-run mode, so the quick check logs each once. */
  private readonly dryRunReported = new Set<string>();

  constructor(
    private readonly repo: MigrationRepository,
    private readonly instances: InstanceRepository,
    private readonly operations: OperationRepository,
    private readonly events: InstanceEvents,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.config = configService.get('migration', { infer: true });
    this.instancesConfig = configService.get('instances', { infer: true });
    this.log = new MigrationLogger(MigrationOpener.name, this.config.logLevel);
  }

  /**
   * Opens the migration operation for one reclaim, under the instance lock (so two replicas, or the
   * quick check and a full pass, open at most one), after the eligibility rules. Announces
   * instance.reclaimed once per reclaim.
   */
  async startMigration(
    target: InstanceRecord,
    observed: NovitaInstance,
    opts: PassOptions,
    now: number = Date.now(),
  ): Promise<StartResult> {
    return this.instances.withInstanceLock(target.id, async (): Promise<StartResult> => {
      const record = await this.instances.get(target.id);
      if (!record) return { outcome: 'skipped', reason: 'instance record is gone' };
      const active = await this.activeOperation(record);
      const eligibility = migrationEligibility(observed, record, {
        now,
        lastMigrationAt: await this.repo.lastMigrationAt(record.id),
        eligibilityIntervalMs: this.config.eligibilityIntervalHours * 3_600_000,
        activeOperationKind: active?.kind ?? null,
      });
      if (!eligibility.eligible) {
        if (eligibility.reason === 'migrated_recently' && !opts.dryRun)
          await this.refuseLoop(record, observed, eligibility.detail);
        this.log.debug({ instanceId: record.id, reason: eligibility.reason }, 'Not migrating');
        return { outcome: 'skipped', reason: `${eligibility.reason}: ${eligibility.detail}` };
      }
      if (opts.dryRun) {
        const key = `${record.id}:${observed.spotReclaimTime}`;
        if (!this.dryRunReported.has(key) || opts.triggeredBy === 'manual_trigger') {
          this.dryRunReported.add(key);
          this.log.info(
            { instanceId: record.id, novitaInstanceId: observed.id },
            'Dry run: would migrate reclaimed spot instance',
          );
        }
        return { outcome: 'would_migrate' };
      }
      const at = new Date(now);
      const op = this.newOperation(record, observed, opts, now);
      const reclaimed: InstanceRecord = {
        ...applyNovitaObservation(record, observed, at),
        status: 'migrating',
        activeOperationId: op.id,
      };
      // One event per reclaim (keyed by Novita's reclaim time), even if a crash makes us open it again.
      await this.events.emit('instance.reclaimed', reclaimed, {
        dedupeKey: `${record.id}:reclaimed:${observed.spotReclaimTime}`,
        operation: op,
        reason: 'spot_reclaim',
        extra: {
          reclaim: {
            novitaInstanceId: observed.id,
            spotStatus: observed.spotStatus,
            spotReclaimTime: observed.spotReclaimTime
              ? new Date(observed.spotReclaimTime).toISOString()
              : null,
            detectedAt: at.toISOString(),
            triggeredBy: opts.triggeredBy,
          },
        },
      });
      await this.repo.save(op, now);
      await this.instances.save(reclaimed);
      this.log.info(
        {
          instanceId: record.id,
          novitaInstanceId: observed.id,
          operationId: op.id,
          triggeredBy: opts.triggeredBy,
        },
        'Spot reclaim detected; migration queued',
      );
      return { outcome: 'migration_started', operationId: op.id };
    });
  }

  /** MIGRATION_ELIGIBILITY_INTERVAL_HOURS: a second reclaim soon after a migration is reported, not migrated again. */
  private async refuseLoop(record: InstanceRecord, observed: NovitaInstance, detail: string): Promise<void> {
    if (record.status === 'failed' && record.lastError?.code === 'MIGRATION_LOOP') return;
    const at = new Date();
    const failed: InstanceRecord = {
      ...applyNovitaObservation(record, observed, at),
      status: 'failed',
      lastError: { code: 'MIGRATION_LOOP', message: detail, at: at.toISOString() },
    };
    await this.events.emit('instance.migration_failed', failed, {
      dedupeKey: `${record.id}:migration_loop:${observed.spotReclaimTime}`,
      reason: detail,
      extra: { migration: { reason: 'spot_reclaim', error: failed.lastError } },
    });
    await this.instances.save(failed);
    this.log.warn({ instanceId: record.id, detail }, 'Not migrating again so soon');
  }

  /** The instance's operation when one is open. */
  async activeOperation(record: InstanceRecord): Promise<OperationRecord | null> {
    if (!record.activeOperationId) return null;
    const op = await this.operations.get(record.activeOperationId);
    return op && !CLOSED_PHASES.has(op.phase) ? op : null;
  }

  /** Whether a migration of the instance is open (the quick check leaves it to the runner). */
  async hasOpenMigration(record: InstanceRecord): Promise<boolean> {
    if (!record.activeOperationId) return false;
    return (await this.activeOperation(record))?.kind === 'migrate';
  }

  /** A migrate operation for the reclaimed instance, at its first step. */
  newOperation(
    record: InstanceRecord,
    observed: NovitaInstance,
    opts: PassOptions,
    now: number,
  ): OperationRecord {
    const at = new Date(now).toISOString();
    const settings = resolveHealthCheck(null, record.healthCheck, this.instancesConfig);
    return {
      id: newOperationId(),
      kind: 'migrate',
      instanceId: record.id,
      novitaInstanceId: observed.id,
      phase: 'intent',
      deadline: now + this.config.jobTimeoutMs,
      attempts: 0,
      polls: 0,
      readiness: {
        ...(settings.port !== undefined ? { port: settings.port } : {}),
        path: settings.path,
        timeoutMs: settings.timeoutMs,
      },
      webhookUrl: null,
      createdAt: at,
      updatedAt: at,
      migration: {
        step: 'queued',
        reason: 'spot_reclaim',
        triggeredBy: opts.triggeredBy,
        detectedAt: at,
        reclaimedAt: observed.spotReclaimTime,
        originalNovitaInstanceId: observed.id,
      },
    };
  }
}
