import { Injectable, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode } from '../../common/errors';
import { AllConfig } from '../../config/config.types';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { StateStore } from '../../infra/store/state-store';
import {
  IdleBounds,
  IdlePolicy,
  IdlePolicyInput,
  PolicyViolation,
  boundsFrom,
  deadlineAfter,
  effectivePolicy,
  isSubjectToAutoStop,
  policyViolations,
  savingsOf,
} from './idle-policy';
import { AUTOSTOP_DEADLINES_KEY, InstanceRepository } from './instance.repository';
import { InstanceRecord } from './instance.types';

/*
 * The one sorted set the sweeper reads holds three kinds of member, so a pass reads everything
 * due with a single range query:
 *   <instanceId>       score = idle deadline (stop or delete per the policy)
 *   del:<instanceId>   score = when an auto-stopped instance is deleted (stop-then-delete)
 *   act:<instanceId>   score = retry time of an auto-stop action under way; it survives a crash
 *                      between the decision and the stop, so the next pass finishes the action.
 */
export const DELETE_MEMBER_PREFIX = 'del:';
export const ACTION_MEMBER_PREFIX = 'act:';
export const deleteMember = (id: string): string => `${DELETE_MEMBER_PREFIX}${id}`;
/** The deadline acted on is part of the member: it keys the auto_stopped event, so a replay is one event. */
export const actionMember = (id: string, deadlineMs: number): string =>
  `${ACTION_MEMBER_PREFIX}${id}@${deadlineMs}`;

export type DeadlineMember =
  | { kind: 'idle'; instanceId: string }
  | { kind: 'delete'; instanceId: string }
  | { kind: 'action'; instanceId: string; deadlineMs: number };

export function parseMember(member: string): DeadlineMember {
  if (member.startsWith(DELETE_MEMBER_PREFIX))
    return { kind: 'delete', instanceId: member.slice(DELETE_MEMBER_PREFIX.length) };
  if (member.startsWith(ACTION_MEMBER_PREFIX)) {
    const rest = member.slice(ACTION_MEMBER_PREFIX.length);
    const at = rest.lastIndexOf('@');
    return { kind: 'action', instanceId: rest.slice(0, at), deadlineMs: Number(rest.slice(at + 1)) };
  }
  return { kind: 'idle', instanceId: member };
}

/** Open savings windows: member = instance id, score = when auto-stop stopped (or deleted) it. */
export const SAVINGS_OPEN_KEY = 'autostop:savings:open';
/** Store-wide totals (increment counters), shared by every replica. */
export const totalsKey = (name: string): string => `autostop:totals:${name}`;
export const TOTALS_SINCE_KEY = 'autostop:totals:since';

/**
 * Writes and clears idle deadlines. Every path that starts, moves or ends an instance's idle clock
 * comes through here (readiness, heartbeats, snooze, the consistency check), so the rules live in
 * one place; stop and delete clear the deadline through the repository.
 */
@Injectable()
export class IdleDeadlines {
  readonly bounds: IdleBounds;

  constructor(
    private readonly repo: InstanceRepository,
    private readonly store: StateStore,
    config: ConfigService<AllConfig, true>,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.bounds = boundsFrom(config.get('autoStop', { infer: true }));
  }

  /** For create, adopt and PUT .../auto-stop: a 400 naming the operator's bound a request exceeds. */
  assertAllowed(input: IdlePolicyInput | null | undefined): void {
    if (input) assertWithinBounds(policyViolations(input, this.bounds));
  }

  policyOf(record: InstanceRecord): IdlePolicy {
    return effectivePolicy(record.autoStop, this.bounds);
  }

  deadline(id: string): Promise<number | null> {
    return this.store.sortedSetScore(AUTOSTOP_DEADLINES_KEY, id);
  }

  /**
   * The instance became running or ready at `atMs`: the idle clock (re)starts from there, a
   * pending stop-then-delete is cancelled and an open savings window closes. Unmanaged instances
   * and disabled policies get no deadline.
   */
  async onActive(record: InstanceRecord, atMs: number): Promise<number | null> {
    await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, deleteMember(record.id));
    await this.closeSavings(record, atMs);
    if (!isSubjectToAutoStop(record, this.bounds)) {
      await this.repo.clearIdleDeadline(record.id);
      return null;
    }
    const deadlineMs = deadlineAfter(atMs, this.policyOf(record));
    await this.repo.setIdleDeadline(record.id, deadlineMs);
    return deadlineMs;
  }

  /** A heartbeat: deadline = lastUsedAt + the instance's idleMinutes (none when auto-stop does not apply). */
  async onHeartbeat(record: InstanceRecord, lastUsedMs: number): Promise<number | null> {
    await this.closeSavings(record, lastUsedMs);
    if (!isSubjectToAutoStop(record, this.bounds)) {
      await this.repo.clearIdleDeadline(record.id);
      return null;
    }
    const deadlineMs = deadlineAfter(lastUsedMs, this.policyOf(record));
    await this.repo.setIdleDeadline(record.id, deadlineMs);
    return deadlineMs;
  }

  async setDeadline(id: string, deadlineMs: number): Promise<void> {
    await this.repo.setIdleDeadline(id, deadlineMs);
  }

  /** Drops the idle deadline and any pending stop-then-delete of the instance. */
  async clear(id: string): Promise<void> {
    await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, id, deleteMember(id));
  }

  /** Ends the instance's savings window (it is in use again) and adds what it saved to the totals. */
  async closeSavings(record: InstanceRecord, atMs: number): Promise<void> {
    const openedAt = await this.store.sortedSetScore(SAVINGS_OPEN_KEY, record.id);
    if (openedAt === null) return;
    // Only the caller that removes the member counts it, so two replicas cannot count it twice.
    if ((await this.store.sortedSetRemove(SAVINGS_OPEN_KEY, record.id)) === 0) return;
    const saved = savingsOf(openedAt, atMs, record.price, record.gpuNum);
    await this.store.increment(totalsKey('saved_gpu_ms'), Math.round(saved.gpuHours * 3_600_000));
    await this.store.increment(totalsKey('saved_usd_micro'), Math.round(saved.dollars * 1_000_000));
    this.metrics?.recordAutoStopSavings(saved);
  }
}

export function assertWithinBounds(violations: PolicyViolation[]): void {
  if (violations.length === 0) return;
  throw new AppError(ErrorCode.VALIDATION_ERROR, violations.flatMap((v) => v.messages).join('; '), {
    fields: violations,
  });
}
