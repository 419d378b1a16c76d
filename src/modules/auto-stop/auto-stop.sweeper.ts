import { Injectable, Optional, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ErrorCode, isAppError } from '../../common/errors';
import { AllConfig, AutoStopConfig } from '../../config/config.types';
import { NovitaClient } from '../../infra/novita/novita-client';
import { StateStore } from '../../infra/store/state-store';
import { InstanceLifecycleService } from '../instances/instance-lifecycle.service';
import {
  DeadlineMember,
  IdleDeadlines,
  SAVINGS_OPEN_KEY,
  TOTALS_SINCE_KEY,
  actionMember,
  deleteMember,
  parseMember,
  totalsKey,
} from '../records/idle-deadlines';
import {
  IdlePolicy,
  MINUTE_MS,
  hasIdleClock,
  isSubjectToAutoStop,
  lastActivityMs,
} from '../records/idle-policy';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { InstanceEvents } from '../records/instance-events';
import { AUTOSTOP_DEADLINES_KEY, InstanceRepository, instanceKey } from '../records/instance.repository';
import { InstanceRecord, isManaged } from '../records/instance.types';
import { OperationRepository } from '../records/operation.repository';
import { CLOSED_PHASES, OperationRecord } from '../records/operation.types';
import { mapNovitaStatus } from '../records/status-mapping';

/** Members read per pass; the rest are due too and wait for the next pass (seconds later). */
export const SWEEP_BATCH = 1000;
/** An action marker is retried this long after it was written if the pass that wrote it died. */
export const ACTION_RETRY_MS = 30_000;
/** A stop or delete that failed is tried again this long after (not every pass). */
export const ERROR_RETRY_MS = 30_000;
export const LAST_RUN_KEY = 'autostop:last-run';

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

export interface SweepReport {
  at: string;
  dryRun: boolean;
  /** Members of the deadline set that were due (or in the warning window) in this pass. */
  due: number;
  acted: SweepCandidate[];
  warned: string[];
  skipped: { instanceId: string; reason: string }[];
  /** In another operation, or the instance lock was busy: tried again next pass. */
  retried: string[];
  errors: { instanceId: string; message: string }[];
}

interface Group {
  instanceId: string;
  /** Idle deadline. */
  idle?: number;
  /** When the stop-then-delete is due. */
  del?: number;
  /** An action under way (or backing off after a failure): the deadline it acts on and when to retry. */
  action?: { deadlineMs: number; retryAt: number };
}

type Outcome =
  | { kind: 'acted'; candidate: SweepCandidate }
  | { kind: 'warned' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'retry' }
  | { kind: 'none' };

/**
 * Reads what is due in the idle-deadline set (one range query; nothing due costs nothing more),
 * re-checks each instance with Novita just before acting, and stops or deletes it through the same
 * durable lifecycle operations a user request uses. Runs on one replica at a time (the background
 * loop's lease); a manual pass elsewhere is harmless because stop is idempotent per instance and every
 * event carries a dedupe key derived from the deadline.
 */
@Injectable()
export class AutoStopSweeper {
  private readonly logger = new Logger(AutoStopSweeper.name);
  private readonly config: AutoStopConfig;
  private readonly concurrency: number;
  /** `${instanceId}@${deadline}` of warnings sent by this replica, so a pass does not re-send each time. */
  private readonly warned = new Map<string, number>();

  constructor(
    private readonly store: StateStore,
    private readonly repo: InstanceRepository,
    private readonly operations: OperationRepository,
    private readonly idle: IdleDeadlines,
    private readonly lifecycle: InstanceLifecycleService,
    private readonly novita: NovitaClient,
    private readonly events: InstanceEvents,
    configService: ConfigService<AllConfig, true>,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.config = configService.get('autoStop', { infer: true });
    this.concurrency = configService.get('novita', { infer: true }).maxConcurrent;
  }

  get warningMs(): number {
    return this.config.warningMinutes * MINUTE_MS;
  }

  /** One pass. dryRun: decides from the store only, calls nothing and changes nothing. */
  async sweep(now: number, opts: { dryRun: boolean; keepAlive?: () => Promise<void> }): Promise<SweepReport> {
    const report: SweepReport = {
      at: new Date(now).toISOString(),
      dryRun: opts.dryRun,
      due: 0,
      acted: [],
      warned: [],
      skipped: [],
      retried: [],
      errors: [],
    };
    const horizon = now + (opts.dryRun ? 0 : this.warningMs);
    const members = await this.store.sortedSetRangeByScore(
      AUTOSTOP_DEADLINES_KEY,
      Number.NEGATIVE_INFINITY,
      horizon,
      SWEEP_BATCH,
    );
    if (members.length === 0) return report;

    const groups = this.group(members.map((m) => ({ parsed: parseMember(m.member), score: m.score })));
    // Warnings already sent by this replica need no record read.
    const work = groups.filter((g) => !this.onlyWarnedAlready(g, now));
    report.due = work.length;
    if (work.length === 0) return report;
    const records = await this.store.getMany<InstanceRecord>(work.map((g) => instanceKey(g.instanceId)));

    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < work.length) {
        const i = next++;
        const group = work[i];
        try {
          await opts.keepAlive?.();
          const outcome = await this.handle(group, records[i], now, opts.dryRun);
          if (outcome.kind === 'acted') report.acted.push(outcome.candidate);
          else if (outcome.kind === 'warned') report.warned.push(group.instanceId);
          else if (outcome.kind === 'skipped')
            report.skipped.push({ instanceId: group.instanceId, reason: outcome.reason });
          else if (outcome.kind === 'retry') report.retried.push(group.instanceId);
        } catch (err) {
          const message = isAppError(err) ? `${err.code}: ${err.message}` : String(err);
          report.errors.push({ instanceId: group.instanceId, message });
          this.logger.warn({ instanceId: group.instanceId, err: message }, 'Auto-stop action failed');
          if (!opts.dryRun) await this.backOff(group, now).catch(() => undefined);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, work.length) }, worker));
    this.forgetOldWarnings(now);
    if (!opts.dryRun) await this.recordTotals(report).catch(() => undefined);
    return report;
  }

  private group(members: { parsed: DeadlineMember; score: number }[]): Group[] {
    const byId = new Map<string, Group>();
    for (const { parsed, score } of members) {
      const g = byId.get(parsed.instanceId) ?? { instanceId: parsed.instanceId };
      if (parsed.kind === 'idle') g.idle = score;
      else if (parsed.kind === 'delete') g.del = score;
      else g.action = { deadlineMs: parsed.deadlineMs, retryAt: score };
      byId.set(parsed.instanceId, g);
    }
    return [...byId.values()];
  }

  private onlyWarnedAlready(g: Group, now: number): boolean {
    return (
      g.action === undefined &&
      g.del === undefined &&
      g.idle !== undefined &&
      g.idle > now &&
      this.warned.has(`${g.instanceId}@${g.idle}`)
    );
  }

  private async handle(
    g: Group,
    record: InstanceRecord | null,
    now: number,
    dryRun: boolean,
  ): Promise<Outcome> {
    if (!record || record.status === 'deleted') {
      // Finishing an auto-delete whose event was not recorded before a crash (a user's earlier delete is not ours).
      if (record && !dryRun) {
        const deletedAt = record.deletedAt ? Date.parse(record.deletedAt) : 0;
        if (g.action) await this.emitAutoDeleted(record, g.action.deadlineMs, now, null);
        else if (g.del !== undefined && g.del <= now && deletedAt >= g.del)
          await this.emitAutoDeleted(record, g.del, now, null);
      }
      if (!dryRun) {
        await this.dropAll(g);
        await this.removeAction(g);
      }
      return { kind: 'skipped', reason: 'the instance no longer exists' };
    }
    if (g.action) {
      // In flight on another pass, or backing off after a failure.
      if (g.action.retryAt > now) return { kind: 'retry' };
      return this.act(record, g.action.deadlineMs, now, dryRun, g);
    }
    if (g.idle !== undefined && g.idle <= now) return this.act(record, g.idle, now, dryRun, g);
    if (g.del !== undefined && g.del <= now) return this.deleteAfterStop(record, g, now, dryRun);
    if (g.idle !== undefined && g.idle > now && !dryRun) return this.warn(record, g.idle, now);
    return { kind: 'none' };
  }

  /** The idle deadline passed: stop (or delete, per the policy) after re-checking with Novita. */
  private async act(
    record: InstanceRecord,
    deadlineMs: number,
    now: number,
    dryRun: boolean,
    g: Group,
  ): Promise<Outcome> {
    if (!isManaged(record)) {
      if (!dryRun) await this.dropAll(g);
      return { kind: 'skipped', reason: 'not managed by this service' };
    }
    const policy = this.idle.policyOf(record);
    if (!policy.enabled) {
      if (!dryRun) await this.dropAll(g);
      return { kind: 'skipped', reason: 'auto-stop is disabled for this instance' };
    }
    const active = await this.activeOperation(record);
    if (active) {
      // Our own stop, opened before a crash cut the pass short: only its event is missing.
      if (active.kind === 'stop' && g.action && !dryRun) {
        await this.emitAutoStopped(record, deadlineMs, now, policy, active.id);
        await this.removeAction(g);
        return { kind: 'skipped', reason: 'already stopping' };
      }
      return { kind: 'retry' };
    }
    const resuming = g.action !== undefined;
    if (!hasIdleClock(record) && !resuming) {
      if (!dryRun) await this.dropAll(g);
      return { kind: 'skipped', reason: `not running (${record.status})` };
    }
    if (!resuming) {
      // An action on this deadline is in flight on another pass, or backing off after a failure. Its
      // marker is read here rather than in the range query, which would otherwise fetch every
      // deadline of the next ACTION_RETRY_MS on each pass.
      const marker = await this.store.sortedSetScore(
        AUTOSTOP_DEADLINES_KEY,
        actionMember(record.id, deadlineMs),
      );
      if (marker !== null && marker > now) return { kind: 'retry' };
    }
    const candidate = this.candidate(record, deadlineMs, now, policy);
    if (dryRun) return { kind: 'acted', candidate };

    // A heartbeat or snooze may have moved the deadline since it was read; that cancels the action.
    const current = await this.idle.deadline(record.id);
    if (current !== null && current > now) {
      await this.removeAction(g);
      return { kind: 'skipped', reason: 'deadline moved' };
    }
    if (current === null && !resuming) return { kind: 'skipped', reason: 'deadline cleared' };
    const live = await this.novitaStatus(record);
    // Resuming after a crash: Novita may already be stopping because of our earlier attempt; the
    // stop below then only opens the operation (no second stop call) and the events follow.
    const finishing = resuming && policy.action === 'stop' && (live === 'stopping' || live === 'stopped');
    if (live !== 'running' && !finishing) {
      await this.removeAction(g);
      await this.dropAll(g);
      return { kind: 'skipped', reason: `not running on Novita (${live})` };
    }

    // Marker first: if this process dies from here on, the next pass finishes the action.
    await this.store.sortedSetAdd(AUTOSTOP_DEADLINES_KEY, [
      { member: actionMember(record.id, deadlineMs), score: now + ACTION_RETRY_MS },
    ]);
    if (policy.action === 'delete') {
      await this.lifecycle.delete(record);
      await this.emitAutoDeleted(record, deadlineMs, now, policy);
      await this.openSavings(record.id, now);
      await this.count('deleted');
    } else {
      const res = await this.lifecycle.stop(record);
      candidate.operationId = res.operationId;
      await this.emitAutoStopped(record, deadlineMs, now, policy, res.operationId);
      if (policy.deleteAfterStoppedMinutes !== null) {
        await this.store.sortedSetAdd(AUTOSTOP_DEADLINES_KEY, [
          { member: deleteMember(record.id), score: now + policy.deleteAfterStoppedMinutes * MINUTE_MS },
        ]);
      }
      await this.openSavings(record.id, now);
      await this.count('stopped');
    }
    await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, actionMember(record.id, deadlineMs));
    this.logger.log(
      { instanceId: record.id, action: policy.action, idleSeconds: candidate.idleSeconds },
      'Auto-stop acted on an idle instance',
    );
    return { kind: 'acted', candidate };
  }

  /** Stop-then-delete: the instance auto-stop stopped is still stopped when its delete time comes. */
  private async deleteAfterStop(
    record: InstanceRecord,
    g: Group,
    now: number,
    dryRun: boolean,
  ): Promise<Outcome> {
    const policy = this.idle.policyOf(record);
    if (!isManaged(record) || !policy.enabled || policy.deleteAfterStoppedMinutes === null) {
      if (!dryRun) await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, deleteMember(record.id));
      return { kind: 'skipped', reason: 'stop-then-delete no longer applies' };
    }
    if (await this.activeOperation(record)) return { kind: 'retry' };
    if (record.status !== 'stopped') {
      if (!dryRun) await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, deleteMember(record.id));
      return { kind: 'skipped', reason: `not stopped (${record.status})` };
    }
    const stoppedFor = g.del! - policy.deleteAfterStoppedMinutes * MINUTE_MS;
    const candidate: SweepCandidate = {
      instanceId: record.id,
      name: record.name,
      action: 'delete',
      reason: `stopped by auto-stop and not started again for ${policy.deleteAfterStoppedMinutes} minutes (deleteAfterStoppedMinutes)`,
      idleDeadline: new Date(g.del!).toISOString(),
      idleSeconds: Math.max(0, Math.round((now - (lastActivityMs(record) ?? stoppedFor)) / 1000)),
      policy,
    };
    if (dryRun) return { kind: 'acted', candidate };
    const live = await this.novitaStatus(record);
    if (live !== 'stopped') {
      await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, deleteMember(record.id));
      return { kind: 'skipped', reason: `not stopped on Novita (${live})` };
    }
    // No marker needed: the del: member outlives the delete, so a crash before the event is finished next pass.
    await this.lifecycle.delete(record);
    await this.emitAutoDeleted(record, g.del!, now, policy);
    await this.count('deleted');
    await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, deleteMember(record.id));
    return { kind: 'acted', candidate };
  }

  private async warn(record: InstanceRecord, deadlineMs: number, now: number): Promise<Outcome> {
    if (!isSubjectToAutoStop(record, this.idle.bounds) || !hasIdleClock(record)) return { kind: 'none' };
    const idleSeconds = this.idleSeconds(record, deadlineMs, now);
    await this.events.emit('instance.idle_warning', record, {
      dedupeKey: `${record.id}:idle_warning:${deadlineMs}`,
      extra: {
        autoStop: {
          idleDeadline: new Date(deadlineMs).toISOString(),
          idleSeconds,
          secondsLeft: Math.max(0, Math.round((deadlineMs - now) / 1000)),
          policy: this.idle.policyOf(record),
          snoozeUrl: `/api/instances/${record.id}/auto-stop/snooze`,
        },
      },
    });
    this.warned.set(`${record.id}@${deadlineMs}`, deadlineMs);
    await this.count('warnings');
    return { kind: 'warned' };
  }

  private candidate(
    record: InstanceRecord,
    deadlineMs: number,
    now: number,
    policy: IdlePolicy,
  ): SweepCandidate {
    const idleSeconds = this.idleSeconds(record, deadlineMs, now);
    return {
      instanceId: record.id,
      name: record.name,
      action: policy.action,
      reason: `idle for ${Math.round(idleSeconds / 60)} min; deadline ${new Date(deadlineMs).toISOString()} (idleMinutes ${policy.idleMinutes}) passed`,
      idleDeadline: new Date(deadlineMs).toISOString(),
      idleSeconds,
      policy,
    };
  }

  private idleSeconds(record: InstanceRecord, deadlineMs: number, now: number): number {
    const since = lastActivityMs(record) ?? deadlineMs - this.idle.policyOf(record).idleMinutes * MINUTE_MS;
    return Math.max(0, Math.round((now - since) / 1000));
  }

  private async emitAutoStopped(
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

  private async emitAutoDeleted(
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

  private async activeOperation(record: InstanceRecord): Promise<OperationRecord | null> {
    if (!record.activeOperationId) return null;
    const op = await this.operations.get(record.activeOperationId);
    return op && !CLOSED_PHASES.has(op.phase) ? op : null;
  }

  /** Novita's view right before acting; gone counts as not running. */
  private async novitaStatus(record: InstanceRecord): Promise<string> {
    if (!record.novitaInstanceId) return 'unknown';
    try {
      return mapNovitaStatus((await this.novita.getInstance(record.novitaInstanceId)).status);
    } catch (err) {
      if (isAppError(err) && err.code === ErrorCode.NOT_FOUND) return 'deleted';
      throw err;
    }
  }

  private async dropAll(g: Group): Promise<void> {
    await this.idle.clear(g.instanceId);
  }

  private async removeAction(g: Group): Promise<void> {
    if (g.action)
      await this.store.sortedSetRemove(
        AUTOSTOP_DEADLINES_KEY,
        actionMember(g.instanceId, g.action.deadlineMs),
      );
  }

  /**
   * A failed stop or delete is retried later, not on every pass: the action marker (kept or written
   * here) holds the retry time, and the idle member keeps the deadline.
   */
  private async backOff(g: Group, now: number): Promise<void> {
    const deadlineMs = g.action?.deadlineMs ?? (g.idle !== undefined && g.idle <= now ? g.idle : undefined);
    if (deadlineMs !== undefined)
      await this.store.sortedSetAdd(AUTOSTOP_DEADLINES_KEY, [
        { member: actionMember(g.instanceId, deadlineMs), score: now + ERROR_RETRY_MS },
      ]);
    else if (g.del !== undefined && g.del <= now)
      await this.store.sortedSetAdd(AUTOSTOP_DEADLINES_KEY, [
        { member: deleteMember(g.instanceId), score: now + ERROR_RETRY_MS },
      ]);
    await this.count('errors');
  }

  private async openSavings(id: string, now: number): Promise<void> {
    await this.store.sortedSetAdd(SAVINGS_OPEN_KEY, [{ member: id, score: now }]);
  }

  private async count(name: string): Promise<void> {
    if (name === 'stopped' || name === 'deleted') this.metrics?.recordAutoStop({ dryRun: false });
    await this.store.set(TOTALS_SINCE_KEY, new Date().toISOString(), { onlyIfAbsent: true });
    await this.store.increment(totalsKey(name));
  }

  private async recordTotals(report: SweepReport): Promise<void> {
    if (report.acted.length + report.warned.length + report.errors.length + report.skipped.length === 0)
      return;
    await this.store.set(LAST_RUN_KEY, summarize(report));
  }

  private forgetOldWarnings(now: number): void {
    for (const [key, deadline] of this.warned) if (deadline < now) this.warned.delete(key);
  }
}

/** What the stats endpoint shows of the last pass that did something. */
export function summarize(report: SweepReport): Record<string, unknown> {
  return {
    at: report.at,
    dryRun: report.dryRun,
    due: report.due,
    stopped: report.acted.filter((c) => c.action === 'stop').length,
    deleted: report.acted.filter((c) => c.action === 'delete').length,
    warned: report.warned.length,
    skipped: report.skipped.length,
    retried: report.retried.length,
    errors: report.errors.length,
  };
}
