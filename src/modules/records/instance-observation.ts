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
    activeOperationId: null,
    terminatedAt: record.terminatedAt ?? now.toISOString(),
    lastSyncedAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/**
 * A record for an instance found on Novita that this service did not create. It is unmanaged
 * (no background policy touches it until a user adopts it) and keeps Novita's own description as
 * its spec, so it can be recreated like any other once adopted.
 */
export function recordFromNovita(id: string, observed: NovitaInstance, now: Date): InstanceRecord {
  const at = now.toISOString();
  const region = observed.clusterName ? observed.clusterName.split(' (')[0] : null;
  const billingMode = observed.billingMode || 'onDemand';
  const base: InstanceRecord = {
    id,
    name: observed.name,
    novitaInstanceId: observed.id,
    status: 'unknown',
    novitaStatus: null,
    readiness: null,
    spec: {
      productName: observed.productName,
      imageUrl: observed.imageUrl,
      imageAuthId: observed.imageAuthId,
      ports: observed.portMappings
        .filter((m) => m.type === 'http' || m.type === 'tcp')
        .map((m) => ({ port: Number(m.port), type: m.type as 'http' | 'tcp' })),
      envs: observed.envs,
      command: observed.command,
      gpuNum: observed.gpuNum,
      rootfsSize: observed.rootfsSize,
      billingMode,
      preferredRegion: region ?? '',
    },
    region,
    clusterId: observed.clusterId || null,
    productId: observed.productId || null,
    productName: observed.productName,
    billingMode,
    price: null,
    gpuNum: observed.gpuNum,
    portMappings: [],
    webhookUrl: null,
    healthCheck: null,
    activeOperationId: null,
    lastError: null,
    statusError: null,
    spotStatus: null,
    managed: false,
    origin: 'novita',
    terminatedAt: null,
    createdAt: iso(observed.createdAt) ?? at,
    updatedAt: at,
    lastSyncedAt: null,
    startedAt: null,
    readyAt: null,
    stoppedAt: null,
    lastUsedAt: null,
    deletedAt: null,
  };
  return applyNovitaObservation(base, observed, now);
}
