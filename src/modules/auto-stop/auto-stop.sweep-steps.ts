import { Injectable, Optional } from '@nestjs/common';
import { ErrorCode, isAppError } from '../../common/errors';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { NovitaClient } from '../../infra/novita/novita-client';
import { StateStore } from '../../infra/store/state-store';
import {
  IdleDeadlines,
  SAVINGS_OPEN_KEY,
  TOTALS_SINCE_KEY,
  actionMember,
  totalsKey,
} from '../records/idle-deadlines';
import { IdlePolicy, MINUTE_MS, lastActivityMs } from '../records/idle-policy';
import { InstanceEvents } from '../records/instance-events';
import { AUTOSTOP_DEADLINES_KEY } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';
import { OperationRepository } from '../records/operation.repository';
import { CLOSED_PHASES, OperationRecord } from '../records/operation.types';
import { mapNovitaStatus } from '../records/status-mapping';

/** An action marker is retried this long after it was written if the pass that wrote it died. */
export const ACTION_RETRY_MS = 30_000;
/** A stop or delete that failed is tried again this long after (not every pass). */
export const ERROR_RETRY_MS = 30_000;

/** One log context for every part of a pass, so a single filter follows auto-stop. */
export const AUTO_STOP_LOG_CONTEXT = 'AutoStopSweeper';

export type SweepAction = 'stop' | 'delete';

/** One instance a pass stopped or deleted, or (dry run) would have. */
export interface SweepCandidate {
  instanceId: string;
  name: string;
  action: SweepAction;
  /** Why: which deadline passed and how long the instance has been idle. */
  reason: string;
  idleDeadline: string;
  idleSeconds: number;
  policy: IdlePolicy;
  operationId?: string | null;
}

/** One instance's members of the deadline set that a pass read. */
export interface DueGroup {
  instanceId: string;
  /** Idle deadline. */
  idle?: number;
  /** When the stop-then-delete is due. */
  del?: number;
  /** An action under way (or backing off after a failure): the deadline it acts on and when to retry. */
  action?: { deadlineMs: number; retryAt: number };
}

/** What a pass did with one instance. */
export type SweepOutcome =
  | { kind: 'acted'; candidate: SweepCandidate }
  | { kind: 'warned' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'retry' }
  | { kind: 'none' };

/**
 * What the warning, the idle action and stop-then-delete share: the re-checks right before acting
 * (another operation under way, Novita's own status), edits of the deadline set, the auto_stopped and
 * auto_deleted events (deduplicated per deadline), and the totals the stats endpoint shows.
 */
@Injectable()
export class AutoStopSweepSteps {
  constructor(
    private readonly store: StateStore,
    private readonly operations: OperationRepository,
    private readonly idle: IdleDeadlines,
    private readonly novita: NovitaClient,
    private readonly events: InstanceEvents,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  idleSeconds(record: InstanceRecord, deadlineMs: number, now: number): number {
    const since = lastActivityMs(record) ?? deadlineMs - this.idle.policyOf(record).idleMinutes * MINUTE_MS;
    return Math.max(0, Math.round((now - since) / 1000));
  }

  async emitAutoStopped(
    record: InstanceRecord,
    deadlineMs: number,
    now: number,
    policy: IdlePolicy,
    operationId: string | null,
  ): Promise<void> {
    await this.events.emit('instance.auto_stopped', record, {
      dedupeKey: `${record.id}:auto_stopped:${deadlineMs}`,
      reason: 'idle',
      extra: {
        autoStop: {
          idleDeadline: new Date(deadlineMs).toISOString(),
          idleSeconds: this.idleSeconds(record, deadlineMs, now),
          policy,
          operationId,
        },
      },
    });
  }

  async emitAutoDeleted(
    record: InstanceRecord,
    deadlineMs: number,
    now: number,
    policy: IdlePolicy | null,
  ): Promise<void> {
    await this.events.emit('instance.auto_deleted', record, {
      dedupeKey: `${record.id}:auto_deleted`,
      reason: 'idle',
      extra: {
        autoStop: {
          idleDeadline: new Date(deadlineMs).toISOString(),
          idleSeconds: this.idleSeconds(record, deadlineMs, now),
          policy: policy ?? this.idle.policyOf(record),
          operationId: null,
        },
      },
    });
  }

  async activeOperation(record: InstanceRecord): Promise<OperationRecord | null> {
    if (!record.activeOperationId) return null;
    const op = await this.operations.get(record.activeOperationId);
    return op && !CLOSED_PHASES.has(op.phase) ? op : null;
  }

  /** Novita's view right before acting; gone counts as not running. */
  async novitaStatus(record: InstanceRecord): Promise<string> {
    if (!record.novitaInstanceId) return 'unknown';
    try {
      return mapNovitaStatus((await this.novita.getInstance(record.novitaInstanceId)).status);
    } catch (err) {
      if (isAppError(err) && err.code === ErrorCode.NOT_FOUND) return 'deleted';
      throw err;
    }
  }

  async dropAll(g: DueGroup): Promise<void> {
    await this.idle.clear(g.instanceId);
  }

  async removeAction(g: DueGroup): Promise<void> {
    if (g.action)
      await this.store.sortedSetRemove(
        AUTOSTOP_DEADLINES_KEY,
        actionMember(g.instanceId, g.action.deadlineMs),
      );
  }

  async openSavings(id: string, now: number): Promise<void> {
    await this.store.sortedSetAdd(SAVINGS_OPEN_KEY, [{ member: id, score: now }]);
  }

  async count(name: string): Promise<void> {
    if (name === 'stopped' || name === 'deleted') this.metrics?.recordAutoStop({ dryRun: false });
    await this.store.set(TOTALS_SINCE_KEY, new Date().toISOString(), { onlyIfAbsent: true });
    await this.store.increment(totalsKey(name));
  }
}
