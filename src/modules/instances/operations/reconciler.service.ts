import { Injectable, Logger, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ErrorCode, isAppError } from '../../../common/errors';
import { AllConfig, InstancesConfig } from '../../../config/config.types';
import { NovitaClient } from '../../../infra/novita/novita-client';
import { NovitaInstance } from '../../../infra/novita/novita.types';
import { IdleDeadlines } from '../../records/idle-deadlines';
import { InstanceEvents } from '../../records/instance-events';
import { applyNovitaObservation, markTerminated } from '../../records/instance-observation';
import { InstanceRepository } from '../../records/instance.repository';
import { InstanceRecord } from '../../records/instance.types';
import { mapNovitaStatus } from '../../records/status-mapping';
import { OperationRepository } from '../../records/operation.repository';
import { IntentSettler, SettleOutcome } from './intent-settler';
import { CLOSED_PHASES, OperationRecord } from '../../records/operation.types';
import { ProbeResult, ReadinessProber, ReadinessTarget, selectReadinessTarget } from './readiness-check';

export interface ReconcileSummary {
  checked: number;
  advanced: number;
  succeeded: number;
  failed: number;
  errors: number;
}

type Observation =
  { kind: 'seen'; instance: NovitaInstance } | { kind: 'gone' } | { kind: 'error'; message: string };
type StepOutcome = SettleOutcome;

/** Operations handled per pass; the rest are due too and wait for the next pass. */
const BATCH = 50;

/**
 * Advances open operations, one step per pass, from state in the store only: kill the process at
 * any point and the next pass carries on. Novita polls and readiness probes happen outside the
 * instance lock; the resulting transition is applied under it, after checking that nobody changed
 * the operation in between. Every event is emitted before the state that records it, with a dedupe
 * key, so a replayed step produces the same event once.
 */
@Injectable()
export class ReconcilerService {
  private readonly logger = new Logger(ReconcilerService.name);
  private readonly config: InstancesConfig;

  constructor(
    private readonly operations: OperationRepository,
    private readonly instances: InstanceRepository,
    private readonly novita: NovitaClient,
    private readonly events: InstanceEvents,
    private readonly prober: ReadinessProber,
    private readonly intents: IntentSettler,
    configService: ConfigService<AllConfig, true>,
    @Optional() private readonly idle?: IdleDeadlines,
  ) {
    this.config = configService.get('instances', { infer: true });
  }

  async reconcileOnce(now: number = Date.now()): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { checked: 0, advanced: 0, succeeded: 0, failed: 0, errors: 0 };
    const ids = await this.operations.due(now, BATCH);
    for (const id of ids) {
      summary.checked++;
      try {
        const outcome = await this.advance(id, now);
        if (outcome === 'succeeded') summary.succeeded++;
        else if (outcome === 'failed') summary.failed++;
        else if (outcome === 'advanced') summary.advanced++;
      } catch (err) {
        summary.errors++;
        this.logger.warn({ err, operationId: id }, 'Operation step failed; retrying next pass');
      }
    }
    return summary;
  }

  /** One step of one operation. Public for tests. */
  async advance(operationId: string, now: number): Promise<StepOutcome> {
    const before = await this.operations.get(operationId);
    if (!before || CLOSED_PHASES.has(before.phase)) {
      await this.operations.unschedule(operationId);
      return 'closed';
    }
    if (before.phase === 'intent') return this.intents.settle(before, now);
    const observation = now > before.deadline ? null : await this.observe(before.novitaInstanceId);
    const target = observation?.kind === 'seen' ? this.readinessTarget(before, observation.instance) : null;
    const probe =
      target?.kind === 'probe' ? await this.prober.probe(target.url, before.readiness.timeoutMs) : undefined;

    return this.instances.withInstanceLock(before.instanceId, async () => {
      const op = await this.operations.get(operationId);
      // Someone (an API request, another pass) changed it since we looked: the next pass starts afresh.
      if (!op || JSON.stringify(op) !== JSON.stringify(before)) return 'raced';
      const record = await this.instances.get(op.instanceId);
      if (
        !record ||
        record.status === 'deleted' ||
        (record.activeOperationId && record.activeOperationId !== op.id)
      ) {
        await this.close(op, 'cancelled', now, {
          error: { code: 'CANCELLED', message: 'superseded or instance deleted' },
        });
        return 'closed';
      }
      if (observation === null) return this.fail(op, record, now, `timed out in phase ${op.phase}`);
      return this.step(op, record, observation, target, probe, now);
    });
  }

  private async observe(novitaInstanceId: string): Promise<Observation> {
    try {
      return { kind: 'seen', instance: await this.novita.getInstance(novitaInstanceId) };
    } catch (err) {
      if (isAppError(err) && err.code === ErrorCode.NOT_FOUND) return { kind: 'gone' };
      return { kind: 'error', message: isAppError(err) ? `${err.code}: ${err.message}` : String(err) };
    }
  }

  /** Only worth computing once Novita says running and the operation wants readiness. */
  private readinessTarget(op: OperationRecord, observed: NovitaInstance): ReadinessTarget | null {
    if (op.kind === 'stop' || observed.status !== 'running') return null;
    return selectReadinessTarget(observed.portMappings, op.readiness);
  }

  private async step(
    op: OperationRecord,
    current: InstanceRecord,
    observation: Observation,
    target: ReadinessTarget | null,
    probe: ProbeResult | undefined,
    now: number,
  ): Promise<StepOutcome> {
    const at = new Date(now);
    if (observation.kind === 'error') {
      await this.reschedule(
        { ...op, polls: op.polls + 1, lastError: observation.message },
        now,
        this.config.reconcileIntervalMs,
      );
      return 'waiting';
    }
    if (observation.kind === 'gone') {
      const terminated = markTerminated(current, at);
      return op.kind === 'stop'
        ? this.succeedStop(op, terminated, now)
        : this.fail(op, terminated, now, 'the instance no longer exists on Novita');
    }
    let record = applyNovitaObservation(
      { ...current, novitaInstanceId: current.novitaInstanceId ?? op.novitaInstanceId },
      observation.instance,
      at,
    );
    const mapped = mapNovitaStatus(observation.instance.status);
    op = { ...op, polls: op.polls + 1, lastError: undefined };

    if (op.kind === 'stop') {
      if (mapped === 'stopped') return this.succeedStop(op, record, now);
      if (mapped === 'deleting' || mapped === 'deleted') return this.close(op, 'cancelled', now, { record });
      return this.wait(op, record, now, this.config.reconcileIntervalMs);
    }

    if (op.phase === 'waiting_running') {
      if (mapped !== 'running') {
        if (mapped === 'deleting' || mapped === 'deleted')
          return this.fail(op, record, now, `the instance is ${record.status}`);
        const statusError = observation.instance.statusError?.message;
        if (statusError && mapped !== 'creating' && mapped !== 'starting')
          return this.fail(op, record, now, `Novita reports: ${statusError}`);
        return this.wait(op, record, now, this.config.reconcileIntervalMs);
      }
      record = { ...record, readiness: 'pending', status: 'running' };
      op = { ...op, phase: 'readiness', runningAt: at.toISOString() };
      // Auto-stop hook: the idle clock starts when the instance runs (restarted at readiness).
      await this.idle?.onActive(record, now);
      await this.events.emit('instance.running', record, {
        dedupeKey: `${op.id}:running`,
        operation: op,
        url: op.webhookUrl,
      });
    } else if (mapped !== 'running') {
      // Left running during the readiness check: back to waiting if it is coming up again, else give up.
      if (mapped === 'starting' || mapped === 'creating')
        return this.wait({ ...op, phase: 'waiting_running' }, record, now, this.config.reconcileIntervalMs);
      return this.fail(
        op,
        record,
        now,
        `the instance left running (now ${observation.instance.status}) before it was ready`,
      );
    }
    return this.readinessStep(op, { ...record, readiness: 'pending', status: 'running' }, target, probe, now);
  }

  private async readinessStep(
    op: OperationRecord,
    record: InstanceRecord,
    target: ReadinessTarget | null,
    probe: ProbeResult | undefined,
    now: number,
  ): Promise<StepOutcome> {
    if (!target || target.kind === 'wait') return this.wait(op, record, now, this.config.reconcileIntervalMs);
    if (target.kind === 'invalid') return this.fail(op, record, now, target.reason);
    if (target.kind === 'skip') return this.succeedReady(op, record, now, { readiness: 'skipped' });
    const attempt = {
      at: new Date(now).toISOString(),
      endpoint: target.url,
      ok: probe?.ok ?? false,
      durationMs: probe?.durationMs ?? 0,
      ...(probe?.httpStatus !== undefined ? { httpStatus: probe.httpStatus } : {}),
      ...(probe?.error ? { error: probe.error } : {}),
    };
    op = { ...op, attempts: op.attempts + 1, lastCheck: attempt };
    if (probe?.ok)
      return this.succeedReady(op, record, now, {
        readiness: 'passed',
        endpoint: target.url,
        httpStatus: probe.httpStatus,
      });
    return this.wait(op, record, now, this.config.readinessIntervalMs);
  }

  private async succeedReady(
    op: OperationRecord,
    record: InstanceRecord,
    now: number,
    result: { readiness: 'passed' | 'skipped'; endpoint?: string; httpStatus?: number },
  ): Promise<StepOutcome> {
    const at = new Date(now).toISOString();
    const ready: InstanceRecord = {
      ...record,
      readiness: result.readiness,
      status: 'ready',
      readyAt: at,
      activeOperationId: null,
      lastError: null,
    };
    const closed: OperationRecord = { ...op, phase: 'succeeded', result, updatedAt: at };
    // Auto-stop hook: grace from readiness, not from creation.
    await this.idle?.onActive(ready, now);
    await this.events.emit('instance.ready', ready, {
      dedupeKey: `${op.id}:ready`,
      operation: closed,
      url: op.webhookUrl,
    });
    await this.instances.save(ready);
    await this.operations.close(closed);
    return 'succeeded';
  }

  private async succeedStop(op: OperationRecord, record: InstanceRecord, now: number): Promise<StepOutcome> {
    const at = new Date(now).toISOString();
    const stopped: InstanceRecord = { ...record, activeOperationId: null, stoppedAt: record.stoppedAt ?? at };
    const closed: OperationRecord = { ...op, phase: 'succeeded', result: { stopped: true }, updatedAt: at };
    if (stopped.status === 'stopped') {
      await this.events.emit('instance.stopped', stopped, {
        dedupeKey: `${op.id}:stopped`,
        operation: closed,
        url: op.webhookUrl,
      });
    }
    await this.instances.save(stopped);
    await this.operations.close(closed);
    return 'succeeded';
  }

  /** startup_failed: the instance keeps existing (never deleted); its status says failed. */
  private async fail(
    op: OperationRecord,
    record: InstanceRecord,
    now: number,
    message: string,
  ): Promise<StepOutcome> {
    const at = new Date(now).toISOString();
    const error = { code: op.kind === 'stop' ? 'STOP_FAILED' : 'STARTUP_FAILED', message };
    const closed: OperationRecord = { ...op, phase: 'failed', error, updatedAt: at };
    const keepTerminal = record.status === 'terminated' || record.status === 'deleted';
    const failed: InstanceRecord = {
      ...record,
      activeOperationId: null,
      readiness: record.novitaStatus === 'running' ? 'failed' : record.readiness,
      status: keepTerminal || op.kind === 'stop' ? record.status : 'failed',
      lastError: { ...error, at },
      updatedAt: at,
    };
    if (op.kind !== 'stop') {
      await this.events.emit('instance.startup_failed', failed, {
        dedupeKey: `${op.id}:startup_failed`,
        operation: closed,
        url: op.webhookUrl,
        reason: message,
      });
    }
    await this.instances.save(failed);
    await this.operations.close(closed);
    this.logger.warn(
      { operationId: op.id, instanceId: op.instanceId, kind: op.kind, reason: message },
      'Operation failed',
    );
    return 'failed';
  }

  private async wait(
    op: OperationRecord,
    record: InstanceRecord,
    now: number,
    delayMs: number,
  ): Promise<StepOutcome> {
    await this.instances.save(record);
    await this.reschedule(op, now, delayMs);
    return 'advanced';
  }

  private async reschedule(op: OperationRecord, now: number, delayMs: number): Promise<void> {
    await this.operations.update({ ...op, updatedAt: new Date(now).toISOString() }, now + delayMs);
  }

  private async close(
    op: OperationRecord,
    phase: 'cancelled',
    now: number,
    extra: { record?: InstanceRecord; error?: { code: string; message: string } },
  ): Promise<StepOutcome> {
    const at = new Date(now).toISOString();
    if (extra.record) await this.instances.save({ ...extra.record, activeOperationId: null });
    await this.operations.close({
      ...op,
      phase,
      updatedAt: at,
      ...(extra.error ? { error: extra.error } : {}),
    });
    return 'closed';
  }
}
