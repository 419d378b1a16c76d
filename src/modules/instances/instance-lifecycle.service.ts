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
  buildOperation,
  healthCheckFromRequest,
  newOperationId,
  resolveHealthCheck,
} from '../records/operation.factory';
import { OperationRepository } from '../records/operation.repository';
import { CLOSED_PHASES, OperationRecord } from '../records/operation.types';
import { mapNovitaStatus } from '../records/status-mapping';

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

  constructor(
    private readonly repo: InstanceRepository,
    private readonly operations: OperationRepository,
    private readonly novita: NovitaClient,
    private readonly events: InstanceEvents,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.config = configService.get('instances', { infer: true });
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
      const now = Date.now();
      const opId = newOperationId();
      const webhookUrl = opts.webhookUrl ?? null;
      if (mapped === 'stopped') {
        try {
          await this.novita.startInstance(novitaId);
        } catch (err) {
          await this.recordStartFailure(record, opId, webhookUrl, err);
          throw err;
        }
      } else if (mapped !== 'running' && mapped !== 'starting' && mapped !== 'creating') {
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
      const op = buildOperation({
        id: opId,
        kind: 'start',
        phase,
        instanceId: record.id,
        novitaInstanceId: novitaId,
        settings,
        webhookUrl,
        now,
      });
      const at = new Date(now).toISOString();
      const starting: InstanceRecord = {
        ...record,
        status: phase === 'readiness' ? 'running' : 'starting',
        readiness: phase === 'readiness' ? 'pending' : null,
        activeOperationId: op.id,
        lastError: null,
        updatedAt: at,
      };
      await this.operations.open(op, now);
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
      if (mapped !== 'stopping') {
        if (!['running', 'starting', 'creating'].includes(mapped)) {
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
        try {
          await this.novita.stopInstance(novitaId);
        } catch (err) {
          // Novita moved on by itself (stopped meanwhile): that is what was asked for.
          if (!(isAppError(err) && err.code === ErrorCode.INVALID_STATE)) throw err;
          record = await this.refresh(record);
          if (
            mapNovitaStatus(record.novitaStatus) !== 'stopped' &&
            mapNovitaStatus(record.novitaStatus) !== 'stopping'
          )
            throw err;
        }
      }
      const now = Date.now();
      const webhookUrl = opts.webhookUrl ?? null;
      const settings = {
        path: '/',
        timeoutMs: this.config.readinessRequestTimeoutMs,
        maxWaitTimeMs: this.config.startupTimeoutMs,
      };
      const op = buildOperation({
        kind: 'stop',
        phase: 'waiting_stopped',
        instanceId: record.id,
        novitaInstanceId: novitaId,
        settings,
        webhookUrl,
        now,
      });
      const stopping: InstanceRecord = {
        ...record,
        status: 'stopping',
        readiness: null,
        activeOperationId: op.id,
        updatedAt: new Date(now).toISOString(),
      };
      await this.operations.open(op, now + this.config.reconcileIntervalMs);
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
      if (record.novitaInstanceId) {
        await this.novita.deleteInstance(record.novitaInstanceId).catch((err: unknown) => {
          if (!(isAppError(err) && err.code === ErrorCode.NOT_FOUND)) throw err;
        });
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
    opId: string,
    webhookUrl: string | null,
    err: unknown,
  ): Promise<void> {
    const error = isAppError(err)
      ? { code: err.code, message: err.message }
      : { code: ErrorCode.INTERNAL_ERROR, message: String(err) };
    const failed: InstanceRecord = { ...record, lastError: { ...error, at: new Date().toISOString() } };
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
