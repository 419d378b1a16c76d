import { NovitaInstance } from '../../infra/novita/novita.types';
import { InstanceRecord } from './instance.types';
import { deriveStatus, mapNovitaStatus } from './status-mapping';

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/**
 * Folds what Novita reports into our record (pure; the caller persists). Our readiness result
 * survives only while Novita keeps saying running: once the instance leaves running it is reset.
 * `nowIso` is `now` as ISO 8601, for callers folding many observations at one instant.
 */
export function applyNovitaObservation(
  record: InstanceRecord,
  observed: NovitaInstance,
  now: Date,
  nowIso: string = now.toISOString(),
): InstanceRecord {
  const mapped = mapNovitaStatus(observed.status);
  const readiness = mapped === 'running' ? record.readiness : null;
  const wasUp = record.status === 'running' || record.status === 'ready';
  const stoppedNow = mapped === 'stopped' && wasUp;
  // Copied, then assigned: V8 clones a bare `{ ...record }` on a fast path, but builds
  // `{ ...record, field: value }` slowly, and a sync pass or a merged listing folds 10,000 of these.
  const next = { ...record };
  next.novitaStatus = observed.status;
  next.readiness = readiness;
  next.status = deriveStatus(observed.status, readiness);
  next.clusterId = observed.clusterId || record.clusterId;
  next.productId = observed.productId || record.productId;
  // List items carry no endpoints (API-NOTES §3.1); keep the richer mappings we already have.
  next.portMappings =
    observed.portMappings.some((m) => m.endpoint) || record.portMappings.length === 0
      ? observed.portMappings
      : record.portMappings;
  next.spotStatus = observed.spotStatus ?? record.spotStatus;
  next.statusError =
    observed.statusError && (observed.statusError.message || observed.statusError.state)
      ? observed.statusError
      : null;
  next.startedAt = iso(observed.startedAt) ?? record.startedAt;
  next.stoppedAt = iso(observed.stoppedAt) ?? (stoppedNow ? nowIso : record.stoppedAt);
  next.lastSyncedAt = nowIso;
  next.updatedAt = nowIso;
  return next;
}

/**
 * Every field of a Novita observation that applyNovitaObservation reads, as one string: the same
 * record folded with two observations of equal fingerprint comes out the same (timestamps of the
 * fold aside). A sync pass keeps it per instance to skip records neither side has changed. Keep
 * it in step with applyNovitaObservation.
 */
export function observationFingerprint(observed: NovitaInstance): string {
  let ports = '';
  for (const m of observed.portMappings) ports += `${m.port},${m.type},${m.endpoint};`;
  return [
    observed.status,
    observed.clusterId,
    observed.productId,
    observed.spotStatus ?? '',
    observed.statusError?.state ?? '',
    observed.statusError?.message ?? '',
    observed.startedAt ?? '',
    observed.stoppedAt ?? '',
    ports,
  ].join('\u0001');
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
