import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { isAppError } from '../../common/errors';
import { AllConfig } from '../../config/config.types';
import { StateStore } from '../../infra/store/state-store';
import { DeadlineMember, actionMember, deleteMember, parseMember } from '../records/idle-deadlines';
import { AUTOSTOP_DEADLINES_KEY, instanceKey } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';
import { AutoStopDeleteAfterStop } from './auto-stop.delete-after-stop';
import { AutoStopIdleAction } from './auto-stop.idle-action';
import {
  AUTO_STOP_LOG_CONTEXT,
  AutoStopSweepSteps,
  DueGroup,
  ERROR_RETRY_MS,
  SweepCandidate,
  SweepOutcome,
} from './auto-stop.sweep-steps';
import { AutoStopWarnings } from './auto-stop.warnings';

export { ACTION_RETRY_MS, ERROR_RETRY_MS } from './auto-stop.sweep-steps';
export type { SweepAction, SweepCandidate } from './auto-stop.sweep-steps';

/** Members read per pass; the rest are due too and wait for the next pass (seconds later). */
export const SWEEP_BATCH = 1000;
export const LAST_RUN_KEY = 'autostop:last-run';

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

/**
 * Reads what is due in the idle-deadline set (one range query; nothing due costs nothing more),
 * re-checks each instance with Novita just before acting, and stops or deletes it through the same
 * durable lifecycle operations a user request uses. Runs on one replica at a time (the background
 * loop's lease); a manual pass elsewhere is harmless because stop is idempotent per instance and every
 * event carries a dedupe key derived from the deadline.
 *
 * This class owns the pass: reading the due members, handing each instance to the warning
 * (AutoStopWarnings), the idle action (AutoStopIdleAction) or stop-then-delete
 * (AutoStopDeleteAfterStop), backing off after a failure, and the last-run summary.
 */
@Injectable()
export class AutoStopSweeper {
  private readonly logger = new Logger(AUTO_STOP_LOG_CONTEXT);
  private readonly concurrency: number;

  constructor(
    private readonly store: StateStore,
    private readonly steps: AutoStopSweepSteps,
    private readonly warnings: AutoStopWarnings,
    private readonly idleAction: AutoStopIdleAction,
    private readonly stopThenDelete: AutoStopDeleteAfterStop,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.concurrency = configService.get('novita', { infer: true }).maxConcurrent;
  }

  get warningMs(): number {
    return this.warnings.warningMs;
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
    const work = groups.filter((g) => !this.warnings.onlyWarnedAlready(g, now));
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
    this.warnings.forgetOldWarnings(now);
    if (!opts.dryRun) await this.recordTotals(report).catch(() => undefined);
    return report;
  }

  private group(members: { parsed: DeadlineMember; score: number }[]): DueGroup[] {
    const byId = new Map<string, DueGroup>();
    for (const { parsed, score } of members) {
      const g = byId.get(parsed.instanceId) ?? { instanceId: parsed.instanceId };
      if (parsed.kind === 'idle') g.idle = score;
      else if (parsed.kind === 'delete') g.del = score;
      else g.action = { deadlineMs: parsed.deadlineMs, retryAt: score };
      byId.set(parsed.instanceId, g);
    }
    return [...byId.values()];
  }

  private async handle(
    g: DueGroup,
    record: InstanceRecord | null,
    now: number,
    dryRun: boolean,
  ): Promise<SweepOutcome> {
    if (!record || record.status === 'deleted') {
      // Finishing an auto-delete whose event was not recorded before a crash (a user's earlier delete is not ours).
      if (record && !dryRun) {
        const deletedAt = record.deletedAt ? Date.parse(record.deletedAt) : 0;
        if (g.action) await this.steps.emitAutoDeleted(record, g.action.deadlineMs, now, null);
        else if (g.del !== undefined && g.del <= now && deletedAt >= g.del)
          await this.steps.emitAutoDeleted(record, g.del, now, null);
      }
      if (!dryRun) {
        await this.steps.dropAll(g);
        await this.steps.removeAction(g);
      }
      return { kind: 'skipped', reason: 'the instance no longer exists' };
    }
    if (g.action) {
      // In flight on another pass, or backing off after a failure.
      if (g.action.retryAt > now) return { kind: 'retry' };
      return this.idleAction.act(record, g.action.deadlineMs, now, dryRun, g);
    }
    if (g.idle !== undefined && g.idle <= now) return this.idleAction.act(record, g.idle, now, dryRun, g);
    if (g.del !== undefined && g.del <= now)
      return this.stopThenDelete.deleteAfterStop(record, g, now, dryRun);
    if (g.idle !== undefined && g.idle > now && !dryRun) return this.warnings.warn(record, g.idle, now);
    return { kind: 'none' };
  }

  /**
   * A failed stop or delete is retried later, not on every pass: the action marker (kept or written
   * here) holds the retry time, and the idle member keeps the deadline.
   */
  private async backOff(g: DueGroup, now: number): Promise<void> {
    const deadlineMs = g.action?.deadlineMs ?? (g.idle !== undefined && g.idle <= now ? g.idle : undefined);
    if (deadlineMs !== undefined)
      await this.store.sortedSetAdd(AUTOSTOP_DEADLINES_KEY, [
        { member: actionMember(g.instanceId, deadlineMs), score: now + ERROR_RETRY_MS },
      ]);
    else if (g.del !== undefined && g.del <= now)
      await this.store.sortedSetAdd(AUTOSTOP_DEADLINES_KEY, [
        { member: deleteMember(g.instanceId), score: now + ERROR_RETRY_MS },
      ]);
    await this.steps.count('errors');
  }

  private async recordTotals(report: SweepReport): Promise<void> {
    if (report.acted.length + report.warned.length + report.errors.length + report.skipped.length === 0)
      return;
    await this.store.set(LAST_RUN_KEY, summarize(report));
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
