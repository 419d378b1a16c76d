import { NovitaInstance } from '../../infra/novita/novita.types';
import { InstanceRecord } from './instance.types';
import { deriveStatus, mapNovitaStatus } from './status-mapping';

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/**
 * Folds what Novita reports into our record (pure; the caller persists). Our readiness result
 * survives only while Novita keeps saying running: once the instance leaves running it is reset.
 */
export function applyNovitaObservation(
  record: InstanceRecord,
  observed: NovitaInstance,
  now: Date,
): InstanceRecord {
  const mapped = mapNovitaStatus(observed.status);
  const readiness = mapped === 'running' ? record.readiness : null;
  const wasUp = record.status === 'running' || record.status === 'ready';
  const stoppedNow = mapped === 'stopped' && wasUp;
  return {
    ...record,
    novitaStatus: observed.status,
    readiness,
    status: deriveStatus(observed.status, readiness),
    clusterId: observed.clusterId || record.clusterId,
    productId: observed.productId || record.productId,
    // List items carry no endpoints (API-NOTES §3.1); keep the richer mappings we already have.
    portMappings:
      observed.portMappings.some((m) => m.endpoint) || record.portMappings.length === 0
        ? observed.portMappings
        : record.portMappings,
    spotStatus: observed.spotStatus ?? record.spotStatus,
    statusError:
      observed.statusError && (observed.statusError.message || observed.statusError.state)
        ? observed.statusError
        : null,
    startedAt: iso(observed.startedAt) ?? record.startedAt,
    stoppedAt: iso(observed.stoppedAt) ?? (stoppedNow ? now.toISOString() : record.stoppedAt),
    lastSyncedAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/** Novita no longer knows the instance: keep the record (never silently drop state), mark it terminated. */
export function markTerminated(record: InstanceRecord, now: Date): InstanceRecord {
  return {
    ...record,
    status: 'terminated',
    readiness: null,
    lastSyncedAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}
