import { NovitaInstance } from '../../infra/novita/novita.types';
import { InstanceRecord, isManaged } from '../records/instance.types';
import { isSpotCandidate } from '../records/instance-index';

/**
 * Pure rules: which Novita instance is a spot reclaim, and which reclaim this service migrates.
 * No I/O, so every rule is unit-tested.
 */

/**
 * The spec's rule: status exited, spotReclaimTime not "0" (null in our domain type) and spotStatus
 * present. A user stop or an auto-stop leaves spotReclaimTime at "0"; an on-demand instance has an
 * empty spotStatus. Neither ever qualifies.
 */
export function isSpotReclaim(n: Pick<NovitaInstance, 'status' | 'spotReclaimTime' | 'spotStatus'>): boolean {
  return n.status === 'exited' && n.spotReclaimTime !== null && !!n.spotStatus && n.spotStatus.trim() !== '';
}

export type SkipReason =
  | 'not_exited'
  | 'not_reclaimed'
  | 'not_spot'
  | 'not_tracked'
  | 'not_managed'
  | 'deleted'
  | 'migration_in_progress'
  | 'other_operation_in_progress'
  | 'migrated_recently';

export type Eligibility = { eligible: true } | { eligible: false; reason: SkipReason; detail: string };

export interface EligibilityContext {
  now: number;
  /** When this instance's last migration started (epoch ms), if any. */
  lastMigrationAt: number | null;
  /** MIGRATION_ELIGIBILITY_INTERVAL_HOURS in ms. */
  eligibilityIntervalMs: number;
  /** The open operation on the record, if any (kind only matters). */
  activeOperationKind: string | null;
}

/** Whether this service should migrate the Novita instance now, given what it knows about it. */
export function migrationEligibility(
  n: NovitaInstance,
  record: InstanceRecord | null,
  ctx: EligibilityContext,
): Eligibility {
  if (n.status !== 'exited') return skip('not_exited', `status is ${n.status}`);
  if (!n.spotStatus || n.spotStatus.trim() === '')
    return skip('not_spot', 'spotStatus is empty (not a spot instance)');
  if (n.spotReclaimTime === null)
    return skip('not_reclaimed', 'spotReclaimTime is "0" (stopped, not reclaimed)');
  if (!record) return skip('not_tracked', 'not an instance of this service');
  if (!isManaged(record)) return skip('not_managed', 'managed is false (found on Novita, not adopted)');
  if (record.status === 'deleted' || record.status === 'deleting')
    return skip('deleted', `instance is ${record.status}`);
  if (ctx.activeOperationKind === 'migrate')
    return skip('migration_in_progress', 'a migration of this instance is already open');
  if (ctx.activeOperationKind)
    return skip('other_operation_in_progress', `a ${ctx.activeOperationKind} operation is open`);
  if (ctx.lastMigrationAt !== null && ctx.now - ctx.lastMigrationAt < ctx.eligibilityIntervalMs) {
    const hours = ctx.eligibilityIntervalMs / 3_600_000;
    return skip(
      'migrated_recently',
      `reclaimed again within ${hours} h of its last migration (${new Date(ctx.lastMigrationAt).toISOString()})`,
    );
  }
  return { eligible: true };
}

function skip(reason: SkipReason, detail: string): Eligibility {
  return { eligible: false, reason, detail };
}

/**
 * Records the quick check reads on Novita: managed spot instances that exist and are not already
 * being migrated. Every status counts, a stopped one included (it may have been reclaimed while
 * something else, such as a GET, recorded it as stopped).
 */
export function isTrackedSpot(record: InstanceRecord): boolean {
  if (!isSpotCandidate(record) || !record.novitaInstanceId) return false;
  return !['deleting', 'terminated', 'creating'].includes(record.status);
}

/** Error codes after which Novita did not start a migration (recreation may follow). */
export function isMigrationRefusal(code: string): boolean {
  return ['INSUFFICIENT_RESOURCES', 'UPSTREAM_BAD_REQUEST', 'INVALID_STATE', 'NOT_FOUND'].includes(code);
}
