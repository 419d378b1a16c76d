import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode } from '../../common/errors';
import { AllConfig, AutoStopConfig } from '../../config/config.types';
import { StateStore } from '../../infra/store/state-store';
import { PassInProgressError } from '../../infra/scheduling/job.types';
import {
  IdleDeadlines,
  SAVINGS_OPEN_KEY,
  assertWithinBounds,
  TOTALS_SINCE_KEY,
  deleteMember,
  parseMember,
  totalsKey,
} from '../records/idle-deadlines';
import {
  deadlineAfter,
  hasIdleClock,
  isSubjectToAutoStop,
  lastActivityMs,
  mergePolicy,
  savingsOf,
  snoozedDeadline,
} from '../records/idle-policy';
import { AUTOSTOP_DEADLINES_KEY, InstanceRepository, instanceKey } from '../records/instance.repository';
import { InstanceRecord, isManaged } from '../records/instance.types';
import { AutoStopJob } from './auto-stop.job';
import { AutoStopSweeper, LAST_RUN_KEY, SweepReport } from './auto-stop.sweeper';
import {
  AutoStopPolicyDto,
  AutoStopStatsDto,
  InstanceAutoStopResponseDto,
  SnoozeResponseDto,
} from './dto/auto-stop.dto';

const TOTAL_NAMES = ['stopped', 'deleted', 'warnings', 'errors', 'saved_gpu_ms', 'saved_usd_micro'] as const;

/** Per-instance policy and snooze, stats and the manual trigger. */
@Injectable()
export class AutoStopService {
  private readonly config: AutoStopConfig;

  constructor(
    private readonly store: StateStore,
    private readonly repo: InstanceRepository,
    private readonly idle: IdleDeadlines,
    private readonly sweeper: AutoStopSweeper,
    private readonly job: AutoStopJob,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.config = configService.get('autoStop', { infer: true });
  }

  async get(id: string): Promise<InstanceAutoStopResponseDto> {
    return this.describe(await this.find(id));
  }

  /** Changes the policy; the deadline follows (from the last activity with the new idleMinutes, or cleared). */
  async update(id: string, dto: AutoStopPolicyDto): Promise<InstanceAutoStopResponseDto> {
    this.idle.assertAllowed(dto);
    const target = await this.find(id);
    const saved = await this.repo.withInstanceLock(target.id, async () => {
      const record = await this.find(target.id);
      const next: InstanceRecord = {
        ...record,
        autoStop: mergePolicy(record.autoStop, dto),
        updatedAt: new Date().toISOString(),
      };
      await this.repo.save(next);
      if (!isSubjectToAutoStop(next, this.idle.bounds)) await this.idle.clear(next.id);
      else if (hasIdleClock(next) && !next.activeOperationId) {
        const since = lastActivityMs(next) ?? Date.now();
        await this.idle.setDeadline(next.id, deadlineAfter(since, this.idle.policyOf(next)));
      }
      return next;
    });
    return this.describe(saved);
  }

  async snooze(id: string, minutes: number, now = Date.now()): Promise<SnoozeResponseDto> {
    const target = await this.find(id);
    return this.repo.withInstanceLock(target.id, async () => {
      const record = await this.find(target.id);
      const current = await this.idle.deadline(record.id);
      if (current === null || !isSubjectToAutoStop(record, this.idle.bounds)) {
        throw new AppError(
          ErrorCode.INVALID_STATE,
          `Instance ${record.name} has no idle deadline to snooze (not running, unmanaged or auto-stop disabled)`,
          { instanceId: record.id, status: record.status, managed: isManaged(record) },
        );
      }
      const result = snoozedDeadline(current, now, minutes, this.idle.bounds);
      if ('violation' in result) assertWithinBounds([result.violation]);
      const deadlineMs = (result as { deadlineMs: number }).deadlineMs;
      await this.idle.setDeadline(record.id, deadlineMs);
      return {
        instanceId: record.id,
        previousDeadline: new Date(current).toISOString(),
        idleDeadline: new Date(deadlineMs).toISOString(),
        message: `Auto-stop deadline moved by ${minutes} minutes`,
      };
    });
  }

  /** dryRun (or AUTO_STOP_DRY_RUN): what a pass would do now, from the store only. */
  async trigger(dryRun: boolean): Promise<SweepReport> {
    if (dryRun || this.config.dryRun) return this.sweeper.sweep(Date.now(), { dryRun: true });
    if (!this.config.enabled)
      throw new AppError(
        ErrorCode.FEATURE_DISABLED,
        'Auto-stop is disabled (AUTO_STOP_ENABLED=false); only dry-run triggers are allowed',
      );
    try {
      return await this.job.runNow();
    } catch (err) {
      if (err instanceof PassInProgressError)
        throw new AppError(
          ErrorCode.OPERATION_IN_PROGRESS,
          'An auto-stop pass is already running on this replica',
          {
            runId: err.runId,
          },
        );
      throw err;
    }
  }

  async stats(now = Date.now()): Promise<AutoStopStatsDto> {
    const [members, open, values] = await Promise.all([
      this.store.sortedSetRangeByScore(
        AUTOSTOP_DEADLINES_KEY,
        Number.NEGATIVE_INFINITY,
        Number.POSITIVE_INFINITY,
      ),
      this.store.sortedSetRangeByScore(SAVINGS_OPEN_KEY, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
      this.store.getMany<unknown>([...TOTAL_NAMES.map(totalsKey), TOTALS_SINCE_KEY, LAST_RUN_KEY]),
    ]);
    const num = (i: number): number => Number(values[i] ?? 0) || 0;
    let tracked = 0;
    let dueNow = 0;
    let pendingDeletes = 0;
    let next: number | null = null;
    for (const m of members) {
      const kind = parseMember(m.member).kind;
      if (kind === 'delete') pendingDeletes++;
      if (kind !== 'idle') continue;
      tracked++;
      if (m.score <= now) dueNow++;
      else if (next === null || m.score < next) next = m.score;
    }
    // Open windows (stopped, not used since) count up to now.
    let gpuHours = num(4) / 3_600_000;
    let dollars = num(5) / 1_000_000;
    if (open.length > 0) {
      const records = await this.store.getMany<InstanceRecord>(open.map((o) => instanceKey(o.member)));
      open.forEach((o, i) => {
        const r = records[i];
        const s = savingsOf(o.score, now, r?.price ?? null, r?.gpuNum ?? 1);
        gpuHours += s.gpuHours;
        dollars += s.dollars;
      });
    }
    return {
      enabled: this.config.enabled,
      dryRun: this.config.dryRun,
      thresholdMinutes: this.config.inactivityThresholdMinutes,
      checkIntervalSeconds: this.config.checkIntervalSeconds,
      sweepIntervalSeconds: this.config.sweepIntervalSeconds,
      warningMinutes: this.config.warningMinutes,
      bounds: {
        minIdleMinutes: this.config.minIdleMinutes,
        maxIdleMinutes: this.config.maxIdleMinutes,
        allowDisable: this.config.allowDisable,
      },
      tracked,
      dueNow,
      pendingDeletes,
      nextDeadline: next === null ? null : new Date(next).toISOString(),
      lastRun: (values[7] as Record<string, unknown> | null) ?? null,
      totals: {
        since: (values[6] as string | null) ?? null,
        stopped: num(0),
        deleted: num(1),
        warnings: num(2),
        errors: num(3),
        gpuHoursSaved: round(gpuHours),
        dollarsSaved: round(dollars),
      },
    };
  }

  private async find(id: string): Promise<InstanceRecord> {
    const record = await this.repo.findByAnyId(id);
    if (!record || record.status === 'deleted') throw AppError.notFound(`Instance ${id}`, { instanceId: id });
    return record;
  }

  private async describe(record: InstanceRecord): Promise<InstanceAutoStopResponseDto> {
    const [deadline, del] = await Promise.all([
      this.idle.deadline(record.id),
      this.store.sortedSetScore(AUTOSTOP_DEADLINES_KEY, deleteMember(record.id)),
    ]);
    return {
      instanceId: record.id,
      managed: isManaged(record),
      policy: this.idle.policyOf(record),
      idleDeadline: deadline === null ? null : new Date(deadline).toISOString(),
      pendingDeleteAt: del === null ? null : new Date(del).toISOString(),
      status: record.status,
    };
  }
}

const round = (n: number): number => Math.round(n * 10_000) / 10_000;
