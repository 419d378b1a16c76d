import { AutoStopConfig } from '../../config/config.types';
import { InstanceRecord, isManaged } from './instance.types';
import { RUNNING_LIKE, mapNovitaStatus } from './status-mapping';

/*
 * Pure auto-stop policy rules: bounds, effective policy, deadlines, snoozes and savings.
 * No I/O here, so every rule is unit-tested on its own (idle-policy.spec.ts).
 */

export const IDLE_ACTIONS = ['stop', 'delete'] as const;
export type IdleAction = (typeof IDLE_ACTIONS)[number];

/** What a user asked for (create, adopt, PUT .../auto-stop); missing fields take the defaults. */
export interface IdlePolicyInput {
  enabled?: boolean;
  idleMinutes?: number;
  action?: IdleAction;
  /** Stop-then-delete: an instance auto-stopped is deleted this long after, unless started again. null: never. */
  deleteAfterStoppedMinutes?: number | null;
}

/** The policy that applies, after defaults and the operator's bounds. */
export interface IdlePolicy {
  enabled: boolean;
  idleMinutes: number;
  action: IdleAction;
  deleteAfterStoppedMinutes: number | null;
}

export interface IdleBounds {
  defaultIdleMinutes: number;
  minIdleMinutes: number;
  maxIdleMinutes: number;
  allowDisable: boolean;
}

export interface PolicyViolation {
  field: string;
  messages: string[];
}

export const MINUTE_MS = 60_000;

export function boundsFrom(config: AutoStopConfig): IdleBounds {
  return {
    defaultIdleMinutes: config.inactivityThresholdMinutes,
    minIdleMinutes: config.minIdleMinutes,
    maxIdleMinutes: config.maxIdleMinutes,
    allowDisable: config.allowDisable,
  };
}

/** Each field outside the operator's bounds, with a message naming the bound (and its setting). */
export function policyViolations(input: IdlePolicyInput, bounds: IdleBounds): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  if (input.idleMinutes !== undefined) {
    if (input.idleMinutes < bounds.minIdleMinutes)
      out.push({
        field: 'idleMinutes',
        messages: [`idleMinutes must be at least ${bounds.minIdleMinutes} (AUTO_STOP_MIN_IDLE_MINUTES)`],
      });
    else if (input.idleMinutes > bounds.maxIdleMinutes)
      out.push({
        field: 'idleMinutes',
        messages: [`idleMinutes must be at most ${bounds.maxIdleMinutes} (AUTO_STOP_MAX_IDLE_MINUTES)`],
      });
  }
  if (input.enabled === false && !bounds.allowDisable)
    out.push({
      field: 'enabled',
      messages: ['auto-stop cannot be disabled for an instance (AUTO_STOP_ALLOW_DISABLE=false)'],
    });
  return out;
}

/**
 * Stored request + defaults, clamped to the current bounds: an operator who tightens the bounds
 * later is obeyed by policies stored before.
 */
export function effectivePolicy(stored: IdlePolicyInput | null | undefined, bounds: IdleBounds): IdlePolicy {
  const idle = stored?.idleMinutes ?? bounds.defaultIdleMinutes;
  return {
    enabled: bounds.allowDisable ? (stored?.enabled ?? true) : true,
    idleMinutes: Math.min(bounds.maxIdleMinutes, Math.max(bounds.minIdleMinutes, idle)),
    action: stored?.action ?? 'stop',
    deleteAfterStoppedMinutes: stored?.deleteAfterStoppedMinutes ?? null,
  };
}

/** A stored policy updated with a request: fields the request leaves out keep their stored value. */
export function mergePolicy(
  stored: IdlePolicyInput | null | undefined,
  update: IdlePolicyInput,
): IdlePolicyInput {
  const merged: IdlePolicyInput = { ...(stored ?? {}) };
  for (const key of Object.keys(update) as (keyof IdlePolicyInput)[]) {
    if (update[key] !== undefined) (merged as Record<string, unknown>)[key] = update[key];
  }
  return merged;
}

/** Auto-stop may act on this record at all: managed, and its policy is on. */
export function isSubjectToAutoStop(record: InstanceRecord, bounds: IdleBounds): boolean {
  return isManaged(record) && effectivePolicy(record.autoStop, bounds).enabled;
}

/**
 * The instance is (as far as the record knows) up and billing: running, ready, starting, or failed
 * its readiness check while Novita still runs it.
 */
export function hasIdleClock(record: InstanceRecord): boolean {
  if (RUNNING_LIKE.has(record.status)) return true;
  return record.status === 'failed' && mapNovitaStatus(record.novitaStatus) === 'running';
}

/** The idle clock's start: the last heartbeat, else readiness, else when it was seen running. */
export function lastActivityMs(record: InstanceRecord): number | null {
  for (const iso of [record.lastUsedAt, record.readyAt, record.startedAt]) {
    const t = iso ? Date.parse(iso) : NaN;
    if (!Number.isNaN(t)) return t;
  }
  return null;
}

export function deadlineAfter(activityMs: number, policy: IdlePolicy): number {
  return activityMs + policy.idleMinutes * MINUTE_MS;
}

/**
 * A snooze pushes the deadline by `minutes` from whichever is later, the current deadline or now.
 * The result may not lie more than AUTO_STOP_MAX_IDLE_MINUTES from now.
 */
export function snoozedDeadline(
  currentDeadlineMs: number,
  nowMs: number,
  minutes: number,
  bounds: IdleBounds,
): { deadlineMs: number } | { violation: PolicyViolation } {
  const deadlineMs = Math.max(currentDeadlineMs, nowMs) + minutes * MINUTE_MS;
  const limit = nowMs + bounds.maxIdleMinutes * MINUTE_MS;
  if (deadlineMs > limit) {
    const allowed = Math.max(0, Math.floor((limit - Math.max(currentDeadlineMs, nowMs)) / MINUTE_MS));
    return {
      violation: {
        field: 'minutes',
        messages: [
          `the deadline may not move more than ${bounds.maxIdleMinutes} minutes (AUTO_STOP_MAX_IDLE_MINUTES) from now; at most ${allowed} more minutes are allowed`,
        ],
      },
    };
  }
  return { deadlineMs };
}

export interface Savings {
  hours: number;
  gpuHours: number;
  dollars: number;
}

/**
 * What one auto-stop saved: the instance would otherwise have kept running (and billing) from the
 * stop until its next sign of use (a start or heartbeat) or the end of the reporting window.
 * hours x gpuNum = GPU-hours; hours x price (USD/h for the whole instance) = dollars.
 */
export function savingsOf(
  stoppedAtMs: number,
  endMs: number,
  pricePerHour: number | null,
  gpuNum: number,
): Savings {
  const hours = Math.max(0, endMs - stoppedAtMs) / 3_600_000;
  return { hours, gpuHours: hours * gpuNum, dollars: hours * (pricePerHour ?? 0) };
}
