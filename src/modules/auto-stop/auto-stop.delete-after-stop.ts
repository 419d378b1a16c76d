import { Injectable } from '@nestjs/common';
import { StateStore } from '../../infra/store/state-store';
import { InstanceLifecycleService } from '../instances/instance-lifecycle.service';
import { IdleDeadlines, deleteMember } from '../records/idle-deadlines';
import { MINUTE_MS, lastActivityMs } from '../records/idle-policy';
import { AUTOSTOP_DEADLINES_KEY } from '../records/instance.repository';
import { InstanceRecord, isManaged } from '../records/instance.types';
import { AutoStopSweepSteps, DueGroup, SweepCandidate, SweepOutcome } from './auto-stop.sweep-steps';

/**
 * Stop-then-delete (deleteAfterStoppedMinutes): an instance auto-stop stopped is deleted when its
 * delete time comes, if it is still stopped, here and on Novita; a start in between cancels it.
 */
@Injectable()
export class AutoStopDeleteAfterStop {
  constructor(
    private readonly store: StateStore,
    private readonly idle: IdleDeadlines,
    private readonly lifecycle: InstanceLifecycleService,
    private readonly steps: AutoStopSweepSteps,
  ) {}

  /** Stop-then-delete: the instance auto-stop stopped is still stopped when its delete time comes. */
  async deleteAfterStop(
    record: InstanceRecord,
    g: DueGroup,
    now: number,
    dryRun: boolean,
  ): Promise<SweepOutcome> {
    const policy = this.idle.policyOf(record);
    if (!isManaged(record) || !policy.enabled || policy.deleteAfterStoppedMinutes === null) {
      if (!dryRun) await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, deleteMember(record.id));
      return { kind: 'skipped', reason: 'stop-then-delete no longer applies' };
    }
    if (await this.steps.activeOperation(record)) return { kind: 'retry' };
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
    const live = await this.steps.novitaStatus(record);
    if (live !== 'stopped') {
      await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, deleteMember(record.id));
      return { kind: 'skipped', reason: `not stopped on Novita (${live})` };
    }
    // No marker needed: the del: member outlives the delete, so a crash before the event is finished next pass.
    await this.lifecycle.delete(record);
    await this.steps.emitAutoDeleted(record, g.del!, now, policy);
    await this.steps.count('deleted');
    await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, deleteMember(record.id));
    return { kind: 'acted', candidate };
  }
}
