import { NovitaInstance } from '../../infra/novita/novita.types';
import { InstanceResponseDto, OperationResponseDto } from '../instances/dto/instance-response.dto';
import { InstanceRecord, isManaged } from './instance.types';
import { OperationRecord } from './operation.types';
import { mapNovitaStatus } from './status-mapping';

export function toInstanceResponse(
  r: InstanceRecord,
  extra: { stale?: boolean; ageMs?: number | null; source?: 'local' | 'merged' } = {},
): InstanceResponseDto {
  return {
    id: r.id,
    instanceId: r.id,
    name: r.name,
    novitaInstanceId: r.novitaInstanceId,
    status: r.status,
    novitaStatus: r.novitaStatus,
    readiness: r.readiness,
    managed: isManaged(r),
    source: extra.source ?? 'local',
    region: r.region,
    clusterId: r.clusterId,
    productId: r.productId,
    productName: r.productName,
    billingMode: r.billingMode,
    price: r.price,
    gpuNum: r.gpuNum,
    portMappings: r.portMappings.map((m) => ({ port: Number(m.port), endpoint: m.endpoint, type: m.type })),
    webhookUrl: r.webhookUrl,
    activeOperationId: r.activeOperationId,
    lastError: r.lastError,
    statusError: r.statusError,
    spotStatus: r.spotStatus,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    lastSyncedAt: r.lastSyncedAt,
    startedAt: r.startedAt,
    readyAt: r.readyAt,
    stoppedAt: r.stoppedAt,
    lastUsedAt: r.lastUsedAt,
    deletedAt: r.deletedAt,
    ...(extra.stale !== undefined ? { stale: extra.stale } : {}),
    ...(extra.ageMs !== undefined ? { ageMs: extra.ageMs } : {}),
  };
}

const iso = (ms: number | undefined | null): string | null => (ms ? new Date(ms).toISOString() : null);

/** An instance Novita knows and this service does not manage. */
export function toNovitaOnlyResponse(
  n: NovitaInstance,
  now: Date,
  nowIso: string = now.toISOString(),
): InstanceResponseDto {
  return {
    id: n.id,
    instanceId: n.id,
    name: n.name,
    novitaInstanceId: n.id,
    status: mapNovitaStatus(n.status),
    novitaStatus: n.status,
    readiness: null,
    managed: false,
    source: 'novita',
    region: n.clusterName ? n.clusterName.split(/\s+/)[0] : null,
    clusterId: n.clusterId || null,
    productId: n.productId || null,
    productName: n.productName,
    billingMode: n.billingMode,
    price: null,
    gpuNum: n.gpuNum,
    portMappings: n.portMappings.map((m) => ({ port: Number(m.port), endpoint: m.endpoint, type: m.type })),
    webhookUrl: null,
    activeOperationId: null,
    lastError: null,
    statusError: n.statusError ?? null,
    spotStatus: n.spotStatus,
    createdAt: iso(n.createdAt),
    updatedAt: null,
    lastSyncedAt: nowIso,
    startedAt: iso(n.startedAt),
    readyAt: null,
    stoppedAt: iso(n.stoppedAt),
    lastUsedAt: null,
    deletedAt: null,
  };
}

export function toOperationResponse(op: OperationRecord): OperationResponseDto {
  return {
    operationId: op.id,
    kind: op.kind,
    phase: op.phase,
    instanceId: op.instanceId,
    deadline: new Date(op.deadline).toISOString(),
    attempts: op.attempts,
    readiness: { ...op.readiness },
    createdAt: op.createdAt,
    updatedAt: op.updatedAt,
    ...(op.lastCheck ? { lastCheck: { ...op.lastCheck } } : {}),
    ...(op.result ? { result: { ...op.result } } : {}),
    ...(op.error ? { error: { ...op.error } } : {}),
  };
}
