import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode, isAppError } from '../../common/errors';
import { AllConfig, InstancesConfig } from '../../config/config.types';
import { NovitaClient } from '../../infra/novita/novita-client';
import { OperationAcceptedResponseDto } from './dto/instance-response.dto';
import { InstanceEvents } from '../records/instance-events';
import { applyNovitaObservation, markTerminated } from '../records/instance-observation';
import { toOperationResponse } from '../records/instance.mapper';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';
import {
  HealthCheckInput,
  REFUSED_BY_NOVITA,
  buildOperation,
  healthCheckFromRequest,
  novitaCallBudgetMs,
  resolveHealthCheck,
} from '../records/operation.factory';
import { OperationRepository } from '../records/operation.repository';
import { CLOSED_PHASES, OperationRecord } from '../records/operation.types';
import { STOPPED_LIKE, mapNovitaStatus } from '../records/status-mapping';
import { CreateLookup } from './create-lookup';

export interface ActionOptions extends HealthCheckInput {
  webhookUrl?: string;
}

/**
 * Start, stop and delete. Each runs under the instance's store mutex, so operations on one instance
 * are serialized across replicas; the reconciler follows what Novita does next.
 * A failed start never deletes anything (the previous implementation deleted the instance).
 */
@Injectable()
export class InstanceLifecycleService {
  private readonly logger = new Logger(InstanceLifecycleService.name);
  private readonly config: InstancesConfig;
  private readonly callBudgetMs: number;

  constructor(
    private readonly repo: InstanceRepository,
    private readonly operations: OperationRepository,
    private readonly novita: NovitaClient,
    private readonly events: InstanceEvents,
    private readonly createLookup: CreateLookup,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.config = configService.get('instances', { infer: true });
    this.callBudgetMs = novitaCallBudgetMs(configService.get('novita', { infer: true }));
  }

  start(target: InstanceRecord, opts: ActionOptions = {}): Promise<OperationAcceptedResponseDto> {
    this.events.assertUrlAllowed(opts.webhookUrl);
    return this.repo.withInstanceLock(target.id, async () => {
      let record = await this.fresh(target.id);
      const active = await this.activeOperation(record);
      if (active) {
        throw new AppError(
          ErrorCode.OPERATION_IN_PROGRESS,
          `Instance ${record.name} has a ${active.kind} operation in progress`,
          {
            instanceId: record.id,
            operationId: active.id,
            kind: active.kind,
            phase: active.phase,
          },
        );
      }
      const novitaId = this.requireNovitaId(record, 'start');
      record = await this.refresh(record);
      const mapped = mapNovitaStatus(record.novitaStatus);
      if (mapped !== 'stopped' && mapped !== 'running' && mapped !== 'starting' && mapped !== 'creating') {
        throw new AppError(
          ErrorCode.INVALID_STATE,
          `Instance ${record.name} cannot be started while ${record.status}`,
          {
            instanceId: record.id,
            status: record.status,
            novitaStatus: record.novitaStatus,
          },
        );
      }
      // Already running: only the readiness check is (re)done. Already on its way up: followed, not restarted.
      const phase = mapped === 'running' ? 'readiness' : 'waiting_running';
      const settings = resolveHealthCheck(healthCheckFromRequest(opts), record.healthCheck, this.config);
      const webhookUrl = opts.webhookUrl ?? null;
      let op = buildOperation({
        kind: 'start',
        phase,
        instanceId: record.id,
        novitaInstanceId: novitaId,
        settings,
        webhookUrl,
        now: Date.now(),
      });
      if (mapped === 'stopped') {
        const intent = await this.writeIntent(record, op, 'start');
        try {
          await this.novita.startInstance(novitaId);
        } catch (err) {
          await this.callFailed(intent, err, () => this.recordStartFailure(record, intent, webhookUrl, err));
          throw err;
        }
        op = intent;
      }
      const now = Date.now();
      const at = new Date(now).toISOString();
      const starting: InstanceRecord = {
        ...record,
        status: phase === 'readiness' ? 'running' : 'starting',
        readiness: phase === 'readiness' ? 'pending' : null,
        activeOperationId: op.id,
        lastError: null,
        updatedAt: at,
      };
      op = { ...op, phase, updatedAt: at };
      // The intent becomes a followed operation: from here the reconciler advances it.
      await this.operations.update(op, now);
      await this.repo.save(starting);
      await this.events.emitSafely('instance.starting', starting, {
        dedupeKey: `${op.id}:starting`,
        operation: op,
        url: webhookUrl,
      });
      return this.accepted(
        starting,
        op,
        phase === 'readiness' ? 'Instance is running; checking readiness' : 'Instance start requested',
      );
    });
  }

  /** Idempotent: an instance already stopped or stopping is answered with its state, without a stop call. */
  stop(target: InstanceRecord, opts: ActionOptions = {}): Promise<OperationAcceptedResponseDto> {
    this.events.assertUrlAllowed(opts.webhookUrl);
    return this.repo.withInstanceLock(target.id, async () => {
      let record = await this.fresh(target.id);
      const active = await this.activeOperation(record);
      if (active?.kind === 'stop') return this.accepted(record, active, 'Instance is already stopping');
      const novitaId = this.requireNovitaId(record, 'stop');
      record = await this.refresh(record);
      if (active) record = await this.cancel(record, active, 'superseded by a stop request');
      const mapped = mapNovitaStatus(record.novitaStatus);
      if (mapped === 'stopped') {
        await this.repo.save(record);
        return this.accepted(record, null, 'Instance is already stopped');
      }
      if (!['running', 'starting', 'creating', 'stopping'].includes(mapped)) {
        throw new AppError(
          ErrorCode.INVALID_STATE,
          `Instance ${record.name} cannot be stopped while ${record.status}`,
          {
            instanceId: record.id,
            status: record.status,
            novitaStatus: record.novitaStatus,
          },
        );
      }
      const webhookUrl = opts.webhookUrl ?? null;
      let op = buildOperation({
        kind: 'stop',
        phase: 'waiting_stopped',
        instanceId: record.id,
        novitaInstanceId: novitaId,
        settings: {
          path: '/',
          timeoutMs: this.config.readinessRequestTimeoutMs,
          maxWaitTimeMs: this.config.startupTimeoutMs,
        },
        webhookUrl,
        now: Date.now(),
      });
      if (mapped !== 'stopping') {
        op = await this.writeIntent(record, op, 'stop');
        try {
          await this.novita.stopInstance(novitaId);
        } catch (err) {
          // Novita moved on by itself (stopped meanwhile): that is what was asked for.
          const stoppedMeanwhile =
            isAppError(err) &&
            err.code === ErrorCode.INVALID_STATE &&
            STOPPED_LIKE.has(mapNovitaStatus((await this.refresh(record)).novitaStatus));
          if (!stoppedMeanwhile) {
            await this.callFailed(op, err, async () => {
              await this.repo.save({ ...record, activeOperationId: null });
            });
            throw err;
          }
        }
      }
      const now = Date.now();
      const at = new Date(now).toISOString();
      op = { ...op, phase: 'waiting_stopped', updatedAt: at };
      const stopping: InstanceRecord = {
        ...record,
        status: 'stopping',
        readiness: null,
        activeOperationId: op.id,
        updatedAt: at,
      };
      await this.operations.update(op, now + this.config.reconcileIntervalMs);
      await this.repo.save(stopping);
      await this.repo.clearIdleDeadline(record.id);
      await this.events.emitSafely('instance.stopping', stopping, {
        dedupeKey: `${op.id}:stopping`,
        operation: op,
        url: webhookUrl,
      });
      return this.accepted(stopping, op, 'Instance stop requested');
    });
  }

  /** Deletes on Novita (already gone counts as deleted) and frees the name; the record stays readable as deleted for a while. */
  delete(target: InstanceRecord, opts: ActionOptions = {}): Promise<OperationAcceptedResponseDto> {
    this.events.assertUrlAllowed(opts.webhookUrl);
    return this.repo.withInstanceLock(target.id, async () => {
      let record = await this.fresh(target.id);
      if (record.status === 'deleted') return this.accepted(record, null, 'Instance was already deleted');
      const active = await this.activeOperation(record);
      if (active) record = await this.cancel(record, active, 'superseded by a delete request');
      const novitaId = record.novitaInstanceId ?? (await this.novitaIdOfUnsettledCreate(record));
      if (novitaId) {
        const op = await this.writeIntent(
          record,
          buildOperation({
            kind: 'delete',
            phase: 'intent',
            instanceId: record.id,
            novitaInstanceId: novitaId,
            settings: {
              path: '/',
              timeoutMs: this.config.readinessRequestTimeoutMs,
              maxWaitTimeMs: this.config.startupTimeoutMs,
            },
            webhookUrl: opts.webhookUrl ?? null,
            now: Date.now(),
          }),
          'delete',
        );
        try {
          await this.novita.deleteInstance(novitaId);
        } catch (err) {
          if (!(isAppError(err) && err.code === ErrorCode.NOT_FOUND)) {
            await this.callFailed(op, err, async () => {
              await this.repo.save({ ...record, activeOperationId: null });
            });
            throw err;
          }
        }
        await this.operations.close({ ...op, phase: 'succeeded', updatedAt: new Date().toISOString() });
        record = { ...record, novitaInstanceId: novitaId };
      }
      const at = new Date().toISOString();
      const deleted: InstanceRecord = {
        ...record,
        status: 'deleted',
        readiness: null,
        activeOperationId: null,
        deletedAt: at,
        updatedAt: at,
      };
      await this.repo.save(deleted);
      await this.repo.releaseIndexes(deleted);
      await this.events.emitSafely('instance.deleted', deleted, {
        dedupeKey: `${record.id}:deleted`,
        url: opts.webhookUrl ?? null,
      });
      this.logger.log(
        { instanceId: record.id, novitaInstanceId: record.novitaInstanceId },
        'Instance deleted',
      );
      return this.accepted(deleted, null, 'Instance deleted');
    });
  }

  /**
   * Write-ahead: records what is about to be asked of Novita before asking. If this process dies
   * during the call, the reconciler settles the intent from Novita's state after settleAfter.
   */
  private async writeIntent(
    record: InstanceRecord,
    op: OperationRecord,
    call: 'start' | 'stop' | 'delete',
  ): Promise<OperationRecord> {
    const now = Date.now();
    const intent: OperationRecord = {
      ...op,
      phase: 'intent',
      intent: { call, writtenAt: now, settleAfter: now + this.callBudgetMs },
    };
    await this.operations.open(intent, intent.intent!.settleAfter);
    await this.repo.save({ ...record, activeOperationId: intent.id });
    return intent;
  }

  /**
   * A refused call changed nothing: the intent is closed and the caller's cleanup runs. Any other
   * failure (timeout, 5xx, open breaker) may or may not have reached Novita: the intent is handed to
   * the reconciler at once, which settles it from what Novita shows.
   */
  private async callFailed(op: OperationRecord, err: unknown, cleanup: () => Promise<void>): Promise<void> {
    const at = new Date().toISOString();
    if (isAppError(err) && REFUSED_BY_NOVITA.has(err.code)) {
      await this.operations.close({
        ...op,
        phase: 'failed',
        error: { code: err.code, message: err.message },
        updatedAt: at,
      });
      await cleanup();
      return;
    }
    const now = Date.now();
    await this.operations.update({ ...op, intent: { ...op.intent!, settleAfter: now }, updatedAt: at }, now);
  }

  /**
   * A record whose create was cut off has no Novita id yet. Before deleting it, Novita is asked
   * whether the instance exists after all (by name), so a delete never leaves a billed instance behind.
   */
  private async novitaIdOfUnsettledCreate(record: InstanceRecord): Promise<string | null> {
    if (record.status !== 'creating') return null;
    const op = record.activeOperationId ? await this.operations.get(record.activeOperationId) : null;
    if (op && op.phase === 'intent' && op.intent && Date.now() < op.intent.settleAfter) {
      throw new AppError(
        ErrorCode.OPERATION_IN_PROGRESS,
        `Instance ${record.name} is still being created; retry after the create settles`,
        { instanceId: record.id, operationId: op.id, retryAfterMs: op.intent.settleAfter - Date.now() },
      );
    }
    const found = await this.createLookup.findCreated(
      record.name,
      op?.intent?.writtenAt ?? Date.parse(record.createdAt),
    );
    return found?.id ?? null;
  }

  private async fresh(id: string): Promise<InstanceRecord> {
    const record = await this.repo.get(id);
    if (!record) throw AppError.notFound(`Instance ${id}`, { instanceId: id });
    return record;
  }

  private async activeOperation(record: InstanceRecord): Promise<OperationRecord | null> {
    if (!record.activeOperationId) return null;
    const op = await this.operations.get(record.activeOperationId);
    return op && !CLOSED_PHASES.has(op.phase) ? op : null;
  }

  private requireNovitaId(record: InstanceRecord, action: string): string {
    if (record.status === 'deleted' || record.status === 'terminated') {
      throw new AppError(
        ErrorCode.INVALID_STATE,
        `Instance ${record.name} is ${record.status}; cannot ${action} it`,
        {
          instanceId: record.id,
          status: record.status,
        },
      );
    }
    if (!record.novitaInstanceId) {
      throw new AppError(
        ErrorCode.INVALID_STATE,
        `Instance ${record.name} was never created on Novita; cannot ${action} it`,
        {
          instanceId: record.id,
          status: record.status,
        },
      );
    }
    return record.novitaInstanceId;
  }

  /** Current state from Novita; a 404 marks the record terminated (kept, never dropped) and answers 409. */
  private async refresh(record: InstanceRecord): Promise<InstanceRecord> {
    try {
      return applyNovitaObservation(
        record,
        await this.novita.getInstance(record.novitaInstanceId!),
        new Date(),
      );
    } catch (err) {
      if (isAppError(err) && err.code === ErrorCode.NOT_FOUND) {
        await this.repo.save(markTerminated(record, new Date()));
        throw new AppError(ErrorCode.INVALID_STATE, `Instance ${record.name} no longer exists on Novita`, {
          instanceId: record.id,
          status: 'terminated',
        });
      }
      throw err;
    }
  }

  private async cancel(
    record: InstanceRecord,
    op: OperationRecord,
    message: string,
  ): Promise<InstanceRecord> {
    const at = new Date().toISOString();
    await this.operations.close({
      ...op,
      phase: 'cancelled',
      error: { code: 'CANCELLED', message },
      updatedAt: at,
    });
    return { ...record, activeOperationId: null };
  }

  private async recordStartFailure(
    record: InstanceRecord,
    op: OperationRecord,
    webhookUrl: string | null,
    err: unknown,
  ): Promise<void> {
    const opId = op.id;
    const error = isAppError(err)
      ? { code: err.code, message: err.message }
      : { code: ErrorCode.INTERNAL_ERROR, message: String(err) };
    const failed: InstanceRecord = {
      ...record,
      activeOperationId: null,
      lastError: { ...error, at: new Date().toISOString() },
    };
    await this.repo.save(failed);
    await this.events.emitSafely('instance.startup_failed', failed, {
      dedupeKey: `${opId}:startup_failed`,
      url: webhookUrl,
      reason: error.message,
    });
    this.logger.warn({ instanceId: record.id, error }, 'Start rejected; the instance is kept');
  }

  private accepted(
    record: InstanceRecord,
    op: OperationRecord | null,
    message: string,
  ): OperationAcceptedResponseDto {
    return {
      instanceId: record.id,
      novitaInstanceId: record.novitaInstanceId,
      name: record.name,
      status: record.status,
      novitaStatus: record.novitaStatus,
      message,
      operationId: op?.id ?? null,
      operation: op ? toOperationResponse(op) : null,
    };
  }
}
