import { SyncConfig } from '../../config/config.types';
import { InstanceRecord } from '../records/instance.types';

/** A record that never reached Novita (no id, no open operation) is removed once this old. */
export const NEVER_STARTED_GRACE_MS = 10 * 60_000;
const DAY_MS = 24 * 3600_000;

/**
 * What to do with a record Novita's listing did not show (the spec's obsolete-instance rules):
 * leave it, remove it now (with the reason), or confirm with a GET first and then mark or remove it.
 */
export type AbsentDecision =
  | { kind: 'leave' }
  | { kind: 'remove'; reason: string }
  | { kind: 'confirm'; then: 'remove' | 'mark_terminated' };

export function decideAbsent(
  record: InstanceRecord,
  busy: boolean,
  nowMs: number,
  config: Pick<SyncConfig, 'removeObsoleteInstances' | 'obsoleteInstanceRetentionDays'>,
): AbsentDecision {
  // An open operation is the reconciler's to settle.
  if (busy || record.status === 'deleted') return { kind: 'leave' };
  if (!record.novitaInstanceId) {
    // Never reached Novita: its create was cut off and never settled, or refused.
    const age = nowMs - Date.parse(record.createdAt);
    const neverStarted = record.status === 'creating' || record.status === 'starting';
    return neverStarted && age > NEVER_STARTED_GRACE_MS
      ? { kind: 'remove', reason: 'Instance never started on Novita' }
      : { kind: 'leave' };
  }
  if (record.status === 'terminated') {
    // Retention counts from when the instance was found gone, not from its creation.
    const since = Date.parse(record.terminatedAt ?? record.updatedAt);
    const days = config.obsoleteInstanceRetentionDays;
    return nowMs - since > days * DAY_MS
      ? { kind: 'remove', reason: `Terminated more than ${days} days ago` }
      : { kind: 'leave' };
  }
  return { kind: 'confirm', then: config.removeObsoleteInstances ? 'remove' : 'mark_terminated' };
}
