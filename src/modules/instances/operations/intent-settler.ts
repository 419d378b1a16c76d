import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig } from '../../../config/config.types';
import { ErrorCode, isAppError } from '../../../common/errors';
import { NovitaClient } from '../../../infra/novita/novita-client';
import { NovitaInstance } from '../../../infra/novita/novita.types';
import { InstanceEvents } from '../../records/instance-events';
import { applyNovitaObservation, markTerminated } from '../../records/instance-observation';
import { InstanceRepository } from '../../records/instance.repository';
import { InstanceRecord } from '../../records/instance.types';
import { OperationRepository } from '../../records/operation.repository';
import { OperationRecord } from '../../records/operation.types';
import { mapNovitaStatus } from '../../records/status-mapping';
import { CreateLookup } from '../create-lookup';
import { toCreateResponse } from '../create-response';
import { IdempotencyService } from '../idempotency.service';

const RETRY_MS = 1_000;

export type SettleOutcome = 'waiting' | 'advanced' | 'failed' | 'succeeded' | 'closed' | 'raced';

type Seen = { kind: 'seen'; instance: NovitaInstance } | { kind: 'gone' };

const regionOf = (clusterName: string | undefined): string | null =>
  clusterName ? clusterName.split(' (')[0] : null;

/**
 * Settles write-ahead intents whose caller is gone (killed, or its Novita call failed without an
 * answer). What Novita shows decides: a create is looked up by name and adopted into its record, or
 * failed once Novita still has nothing; a start, stop or delete that took effect continues as the
 * operation it would have become, emitting the events it owed (same dedupe keys as the caller's, so
 * each arrives once); one that did not take effect fails and frees the instance.
 */
@Injectable()
export class IntentSettler {
  private readonly logger = new Logger(IntentSettler.name);
  /** After its call could have answered, how long a create intent keeps looking for its instance on Novita (listing lag). */
  private readonly notFoundGraceMs: number;

  constructor(
    private readonly operations: OperationRepository,
    private readonly instances: InstanceRepository,
    private readonly novita: NovitaClient,
    private readonly events: InstanceEvents,
    private readonly lookup: CreateLookup,
    private readonly idempotency: IdempotencyService,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.notFoundGraceMs = configService.get('novita', { infer: true }).timeoutMs + 5_000;
  }

  async settle(before: OperationRecord, now: number): Promise<SettleOutcome> {
    const intent = before.intent!;
    if (now < intent.settleAfter) {
      await this.operations.schedule(before.id, intent.settleAfter);
      return 'waiting';
    }
    // Ask Novita outside the lock; a failure to ask is never read as "not there".
    let seen: Seen | null;
    try {
      seen = await this.observe(before, now);
    } catch (err) {
      this.logger.warn(
        { operationId: before.id, err: String(err) },
        'Cannot settle intent yet: Novita unavailable',
      );
      await this.operations.schedule(before.id, now + RETRY_MS);
      return 'waiting';
    }
    return this.instances.withInstanceLock(before.instanceId, async () => {
      const op = await this.operations.get(before.id);
      if (!op || JSON.stringify(op) !== JSON.stringify(before)) return 'raced';
      const record = await this.instances.get(op.instanceId);
      if (
        !record ||
        record.status === 'deleted' ||
        (record.activeOperationId && record.activeOperationId !== op.id)
      ) {
        await this.operations.close({ ...op, phase: 'cancelled', updatedAt: new Date(now).toISOString() });
        if (intent.idempotencyKey && !record) await this.idempotency.release(intent.idempotencyKey);
        return 'closed';
      }
      if (intent.call === 'create') return this.settleCreate(op, record, seen, now);
      return this.settleAction(op, record, seen!, now);
    });
  }

  /** create: null when nothing with the name exists (yet); otherwise the instance or "gone". */
  private async observe(op: OperationRecord, now: number): Promise<Seen | null> {
    if (op.intent!.call === 'create') {
      const record = await this.instances.get(op.instanceId);
      if (!record) return null;
      const found = await this.lookup.findCreated(record.name, op.intent!.writtenAt, record.id);
      return found ? { kind: 'seen', instance: found } : null;
    }
    void now;
    try {
      return { kind: 'seen', instance: await this.novita.getInstance(op.novitaInstanceId) };
    } catch (err) {
      if (isAppError(err) && err.code === ErrorCode.NOT_FOUND) return { kind: 'gone' };
      throw err;
    }
  }

  private async settleCreate(
    op: OperationRecord,
    record: InstanceRecord,
    seen: Seen | null,
    now: number,
  ): Promise<SettleOutcome> {
    const at = new Date(now).toISOString();
    const key = op.intent!.idempotencyKey;
    if (seen?.kind === 'seen') {
      const inst = seen.instance;
      const adopted: InstanceRecord = {
        ...applyNovitaObservation(
          {
            ...record,
            novitaInstanceId: inst.id,
            region: regionOf(inst.clusterName) ?? record.region,
            clusterId: inst.clusterId,
            productId: inst.productId,
            productName: inst.productName || record.productName,
          },
          inst,
          new Date(now),
        ),
        activeOperationId: op.id,
      };
      const next: OperationRecord = {
        ...op,
        phase: 'waiting_running',
        novitaInstanceId: inst.id,
        updatedAt: at,
      };
      await this.events.emit('instance.created', adopted, {
        dedupeKey: `${record.id}:created`,
        operation: next,
      });
      await this.operations.update(next, now);
      await this.instances.save(adopted);
      if (key) {
        const body = toCreateResponse(adopted, next, {
          regionAttempts: [],
          pricePerGpu: null,
          spotPrice: null,
        });
        await this.idempotency.settle(key, { response: { status: 201, body } });
      }
      this.logger.log(
        { instanceId: record.id, novitaInstanceId: inst.id, operationId: op.id },
        'Create intent settled: instance found on Novita and adopted into its record',
      );
      return 'advanced';
    }
    if (now < op.intent!.settleAfter + this.notFoundGraceMs) {
      // Novita's listing can lag behind a create it accepted: look again before giving up.
      await this.operations.schedule(op.id, now + RETRY_MS);
      return 'waiting';
    }
    const message = 'The create request was cut off and Novita has no such instance; nothing was created';
    const failed: InstanceRecord = {
      ...record,
      status: 'failed',
      activeOperationId: null,
      lastError: { code: 'CREATE_FAILED', message, at },
      updatedAt: at,
    };
    await this.events.emit('instance.creation_failed', failed, {
      dedupeKey: `${record.id}:creation_failed`,
      reason: message,
    });
    await this.instances.save(failed);
    await this.instances.releaseIndexes(failed);
    await this.operations.close({
      ...op,
      phase: 'failed',
      error: { code: 'CREATE_FAILED', message },
      updatedAt: at,
    });
    if (key)
      await this.idempotency.settle(key, {
        error: { code: ErrorCode.UPSTREAM_UNAVAILABLE, message, details: { instanceId: record.id } },
      });
    this.logger.warn(
      { instanceId: record.id, operationId: op.id },
      'Create intent settled: nothing on Novita; name released',
    );
    return 'failed';
  }

  private async settleAction(
    op: OperationRecord,
    record: InstanceRecord,
    seen: Seen,
    now: number,
  ): Promise<SettleOutcome> {
    const at = new Date(now).toISOString();
    const call = op.intent!.call;
    const observed =
      seen.kind === 'seen'
        ? applyNovitaObservation(record, seen.instance, new Date(now))
        : markTerminated(record, new Date(now));
    const mapped = seen.kind === 'seen' ? mapNovitaStatus(seen.instance.status) : 'deleted';

    if (call === 'delete') {
      if (mapped === 'deleting' || mapped === 'deleted') {
        const deleted: InstanceRecord = {
          ...observed,
          status: 'deleted',
          readiness: null,
          activeOperationId: null,
          deletedAt: at,
          updatedAt: at,
        };
        await this.events.emit('instance.deleted', deleted, {
          dedupeKey: `${record.id}:deleted`,
          url: op.webhookUrl,
        });
        await this.instances.save(deleted);
        await this.instances.releaseIndexes(deleted);
        await this.operations.close({ ...op, phase: 'succeeded', updatedAt: at });
        return 'succeeded';
      }
      return this.notApplied(op, observed, now);
    }

    const tookEffect =
      call === 'start'
        ? mapped === 'starting' || mapped === 'creating' || mapped === 'running'
        : mapped === 'stopping' || mapped === 'stopped';
    if (seen.kind === 'gone' || !tookEffect) return this.notApplied(op, observed, now);

    const phase = call === 'start' ? 'waiting_running' : 'waiting_stopped';
    const next: OperationRecord = { ...op, phase, updatedAt: at };
    const moving: InstanceRecord = {
      ...observed,
      status: call === 'start' ? (mapped === 'running' ? 'running' : 'starting') : 'stopping',
      readiness: null,
      activeOperationId: op.id,
    };
    await this.events.emit(call === 'start' ? 'instance.starting' : 'instance.stopping', moving, {
      dedupeKey: `${op.id}:${call === 'start' ? 'starting' : 'stopping'}`,
      operation: next,
      url: op.webhookUrl,
    });
    await this.operations.update(next, now);
    await this.instances.save(moving);
    if (call === 'stop') await this.instances.clearIdleDeadline(record.id);
    return 'advanced';
  }

  /** The call never took effect: the operation fails and the instance is free again. */
  private async notApplied(op: OperationRecord, record: InstanceRecord, now: number): Promise<SettleOutcome> {
    const at = new Date(now).toISOString();
    const message = `the ${op.intent!.call} request did not take effect on Novita (instance is ${record.novitaStatus ?? record.status})`;
    const error = { code: `${op.intent!.call.toUpperCase()}_NOT_APPLIED`, message };
    const freed: InstanceRecord = {
      ...record,
      activeOperationId: null,
      lastError: { ...error, at },
      updatedAt: at,
    };
    if (op.intent!.call === 'start') {
      await this.events.emit('instance.startup_failed', freed, {
        dedupeKey: `${op.id}:startup_failed`,
        operation: { ...op, phase: 'failed', error },
        url: op.webhookUrl,
        reason: message,
      });
    }
    await this.instances.save(freed);
    await this.operations.close({ ...op, phase: 'failed', error, updatedAt: at });
    this.logger.warn({ operationId: op.id, instanceId: op.instanceId }, `Intent settled: ${message}`);
    return 'failed';
  }
}
