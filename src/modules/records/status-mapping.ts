import { InstanceStatus, ReadinessState } from './instance.types';

/**
 * The one table from Novita's raw status (API-NOTES §4.1) to our normalized status. The raw value is
 * always kept beside it (`novitaStatus`), so nothing is lost by the mapping.
 */
export const NOVITA_STATUS_MAP: Readonly<Record<string, InstanceStatus>> = {
  pending: 'creating',
  toCreate: 'creating',
  creating: 'creating',
  // Image pulling happens on create and on start; either way the container is on its way up.
  pulling: 'starting',
  running: 'running',
  toStart: 'starting',
  starting: 'starting',
  toStop: 'stopping',
  stopping: 'stopping',
  // Also where reclaimed spot instances end up (the migration module tells those apart).
  exited: 'stopped',
  toRestart: 'starting',
  restarting: 'starting',
  toRemove: 'deleting',
  removing: 'deleting',
  removed: 'deleted',
  // Re-imaging (upgrade) ends in running again.
  toReset: 'starting',
  resetting: 'starting',
  migrating: 'migrating',
  // Undocumented; the instance cannot be used while frozen, like a stopped one.
  freezing: 'stopped',
};

export function mapNovitaStatus(raw: string | null | undefined): InstanceStatus {
  if (!raw) return 'unknown';
  return Object.prototype.hasOwnProperty.call(NOVITA_STATUS_MAP, raw) ? NOVITA_STATUS_MAP[raw] : 'unknown';
}

/**
 * The status we report: Novita's mapped status, refined by our readiness result while Novita says
 * running (`ready` once the check passed or was skipped, `failed` when it failed at the deadline).
 */
export function deriveStatus(
  raw: string | null | undefined,
  readiness: ReadinessState | null,
): InstanceStatus {
  const mapped = mapNovitaStatus(raw);
  if (mapped !== 'running') return mapped;
  if (readiness === 'passed' || readiness === 'skipped') return 'ready';
  if (readiness === 'failed') return 'failed';
  return 'running';
}

/** Normalized statuses from which an instance can be (or already is being) brought up by a start. */
export const RUNNING_LIKE: ReadonlySet<InstanceStatus> = new Set(['running', 'ready', 'starting']);
export const STOPPED_LIKE: ReadonlySet<InstanceStatus> = new Set(['stopped', 'stopping']);
export const GONE: ReadonlySet<InstanceStatus> = new Set(['deleted', 'deleting', 'terminated']);

/** Novita statuses that are still on the way to running (after a start or create was accepted). */
export function isOnTheWayUp(raw: string | null | undefined): boolean {
  const mapped = mapNovitaStatus(raw);
  return mapped === 'creating' || mapped === 'starting';
}
