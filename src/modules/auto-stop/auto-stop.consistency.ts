import { Injectable } from '@nestjs/common';
import { StateStore } from '../../infra/store/state-store';
import { IdleDeadlines, parseMember } from '../records/idle-deadlines';
import { deadlineAfter, hasIdleClock, isSubjectToAutoStop } from '../records/idle-policy';
import { AUTOSTOP_DEADLINES_KEY, InstanceRepository } from '../records/instance.repository';

export interface ConsistencyReport {
  records: number;
  added: number;
  removed: number;
}

/**
 * The slow safety net behind the deadline path (every AUTO_STOP_CHECK_INTERVAL_SECONDS): a managed
 * running instance whose deadline was never written (records from before auto-stop, a crash between
 * readiness and the deadline write) gets a full idle window from now; a deadline whose instance is
 * gone, unmanaged, disabled or not running is dropped. It reads every record, so it runs rarely.
 */
@Injectable()
export class AutoStopConsistencyCheck {
  constructor(
    private readonly store: StateStore,
    private readonly repo: InstanceRepository,
    private readonly idle: IdleDeadlines,
  ) {}

  async run(now: number, opts: { dryRun: boolean }): Promise<ConsistencyReport> {
    const [records, members] = await Promise.all([
      this.repo.listAll(),
      this.store.sortedSetRangeByScore(
        AUTOSTOP_DEADLINES_KEY,
        Number.NEGATIVE_INFINITY,
        Number.POSITIVE_INFINITY,
      ),
    ]);
    const tracked = new Set(
      members
        .map((m) => parseMember(m.member))
        .filter((m) => m.kind === 'idle')
        .map((m) => m.instanceId),
    );
    const report: ConsistencyReport = { records: records.length, added: 0, removed: 0 };
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const record of records) {
      if (tracked.has(record.id) || record.activeOperationId) continue;
      if (!isSubjectToAutoStop(record, this.idle.bounds) || !hasIdleClock(record)) continue;
      report.added++;
      // A full idle window from now, whatever lastUsedAt says: finding an untracked instance never stops it at once.
      if (!opts.dryRun)
        await this.idle.setDeadline(record.id, deadlineAfter(now, this.idle.policyOf(record)));
    }
    for (const id of tracked) {
      const record = byId.get(id);
      const keep =
        record &&
        record.status !== 'deleted' &&
        isSubjectToAutoStop(record, this.idle.bounds) &&
        (hasIdleClock(record) || record.activeOperationId);
      if (keep) continue;
      report.removed++;
      if (!opts.dryRun) await this.repo.clearIdleDeadline(id);
    }
    return report;
  }
}
