import { Injectable, Logger } from '@nestjs/common';
import { StateStore } from '../../infra/store/state-store';
import { InstanceLifecycleService } from '../instances/instance-lifecycle.service';
import { IdleDeadlines, actionMember, deleteMember } from '../records/idle-deadlines';
import { IdlePolicy, MINUTE_MS, hasIdleClock } from '../records/idle-policy';
import { AUTOSTOP_DEADLINES_KEY } from '../records/instance.repository';
import { InstanceRecord, isManaged } from '../records/instance.types';
import {
  ACTION_RETRY_MS,
  AUTO_STOP_LOG_CONTEXT,
  AutoStopSweepSteps,
  DueGroup,
  SweepCandidate,
  SweepOutcome,
} from './auto-stop.sweep-steps';

/**
 * The idle deadline passed: the instance is re-checked (policy, other operations, a moved deadline,
 * Novita's own status) and stopped or deleted, per its policy, through the same durable lifecycle
 * operations a user request uses. An action marker written first lets the next pass finish an action
 * a crash cut short; a stop with deleteAfterStoppedMinutes also schedules the stop-then-delete.
 */
@Injectable()
export class AutoStopIdleAction {
  private readonly logger = new Logger(AUTO_STOP_LOG_CONTEXT);

  constructor(
    private readonly store: StateStore,
    private readonly idle: IdleDeadlines,
    private readonly lifecycle: InstanceLifecycleService,
    private readonly steps: AutoStopSweepSteps,
  ) {}

  /** The idle deadline passed: stop (or delete, per the policy) after re-checking with Novita. */
  async act(
    record: InstanceRecord,
    deadlineMs: number,
    now: number,
    dryRun: boolean,
    g: DueGroup,
  ): Promise<SweepOutcome> {
    if (!isManaged(record)) {
      if (!dryRun) await this.steps.dropAll(g);
      return { kind: 'skipped', reason: 'not managed by this service' };
    }
    const policy = this.idle.policyOf(record);
    if (!policy.enabled) {
      if (!dryRun) await this.steps.dropAll(g);
      return { kind: 'skipped', reason: 'auto-stop is disabled for this instance' };
    }
    const active = await this.steps.activeOperation(record);
    if (active) {
      // Our own stop, opened before a crash cut the pass short: only its event is missing.
      if (active.kind === 'stop' && g.action && !dryRun) {
        await this.steps.emitAutoStopped(record, deadlineMs, now, policy, active.id);
        await this.steps.removeAction(g);
        return { kind: 'skipped', reason: 'already stopping' };
      }
      return { kind: 'retry' };
    }
    const resuming = g.action !== undefined;
    if (!hasIdleClock(record) && !resuming) {
      if (!dryRun) await this.steps.dropAll(g);
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
      await this.steps.removeAction(g);
      return { kind: 'skipped', reason: 'deadline moved' };
    }
    if (current === null && !resuming) return { kind: 'skipped', reason: 'deadline cleared' };
    const live = await this.steps.novitaStatus(record);
    // Resuming after a crash: Novita may already be stopping because of our earlier attempt; the
    // stop below then only opens the operation (no second stop call) and the events follow.
    const finishing = resuming && policy.action === 'stop' && (live === 'stopping' || live === 'stopped');
    if (live !== 'running' && !finishing) {
      await this.steps.removeAction(g);
      await this.steps.dropAll(g);
      return { kind: 'skipped', reason: `not running on Novita (${live})` };
    }

    // Marker first: if this process dies from here on, the next pass finishes the action.
    await this.store.sortedSetAdd(AUTOSTOP_DEADLINES_KEY, [
      { member: actionMember(record.id, deadlineMs), score: now + ACTION_RETRY_MS },
    ]);
    if (policy.action === 'delete') {
      await this.lifecycle.delete(record);
      await this.steps.emitAutoDeleted(record, deadlineMs, now, policy);
      await this.steps.openSavings(record.id, now);
      await this.steps.count('deleted');
    } else {
      const res = await this.lifecycle.stop(record);
      candidate.operationId = res.operationId;
      await this.steps.emitAutoStopped(record, deadlineMs, now, policy, res.operationId);
      if (policy.deleteAfterStoppedMinutes !== null) {
        await this.store.sortedSetAdd(AUTOSTOP_DEADLINES_KEY, [
          { member: deleteMember(record.id), score: now + policy.deleteAfterStoppedMinutes * MINUTE_MS },
        ]);
      }
      await this.steps.openSavings(record.id, now);
      await this.steps.count('stopped');
    }
    await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, actionMember(record.id, deadlineMs));
    this.logger.log(
      { instanceId: record.id, action: policy.action, idleSeconds: candidate.idleSeconds },
      'Auto-stop acted on an idle instance',
    );
    return { kind: 'acted', candidate };
  }

  private candidate(
    record: InstanceRecord,
    deadlineMs: number,
    now: number,
    policy: IdlePolicy,
  ): SweepCandidate {
    const idleSeconds = this.steps.idleSeconds(record, deadlineMs, now);
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
}
