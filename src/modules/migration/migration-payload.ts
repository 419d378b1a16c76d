import { PortMapping } from '../../infra/novita/novita.types';
import { toInstanceResponse } from '../records/instance.mapper';
import { InstanceRecord } from '../records/instance.types';
import { OperationRecord } from '../records/operation.types';

/** How to reach the instance: every mapped endpoint, plus ssh and jupyter shortcuts when mapped. */
export function connectionDetails(portMappings: PortMapping[]): Record<string, unknown> {
  const endpoints = portMappings
    .filter((m) => m.endpoint)
    .map((m) => ({ port: Number(m.port), type: m.type, endpoint: m.endpoint }));
  const details: Record<string, unknown> = { endpoints };
  const ssh = endpoints.find((e) => e.port === 22 && e.type === 'tcp');
  if (ssh) {
    const [host, port] = ssh.endpoint.replace(/^[a-z]+:\/\//i, '').split(':');
    details.ssh = port ? `ssh root@${host} -p ${port}` : `ssh root@${host}`;
  }
  const jupyter = endpoints.find((e) => e.port === 8888 && e.type === 'http');
  if (jupyter) details.jupyter = jupyter.endpoint;
  return details;
}

/**
 * The spec's webhook shape for instance.migrated (and instance.recreated): event, instanceId,
 * originalInstanceId, status, timestamp, migration.{reason, triggeredBy, migrationTime} and
 * instance.{id, name, connectionDetails}. Our instance id never changes, so instanceId and
 * originalInstanceId are equal; the Novita ids before and after are in migration.
 */
export function migrationEventData(
  event: 'instance.migrated' | 'instance.recreated',
  record: InstanceRecord,
  op: OperationRecord,
  at: Date,
): Record<string, unknown> {
  const m = op.migration!;
  return {
    event,
    instanceId: record.id,
    originalInstanceId: record.id,
    status: 'running',
    timestamp: at.toISOString(),
    migration: {
      reason: m.reason,
      triggeredBy: m.triggeredBy,
      migrationTime: m.migrationTimeMs ?? null,
      operationId: op.id,
      recreated: event === 'instance.recreated',
      originalNovitaInstanceId: m.originalNovitaInstanceId,
      novitaInstanceId: record.novitaInstanceId,
      ...(m.jobId ? { jobId: m.jobId } : {}),
      ...(m.failure ? { migrationFailure: m.failure } : {}),
      detectedAt: m.detectedAt,
      reclaimedAt: m.reclaimedAt ? new Date(m.reclaimedAt).toISOString() : null,
    },
    instance: { ...toInstanceResponse(record), connectionDetails: connectionDetails(record.portMappings) },
  };
}
