import { randomUUID } from 'node:crypto';
import { InstancesConfig, NovitaConfig } from '../../config/config.types';
import { HealthCheckSettings } from './instance.types';
import { OperationKind, OperationPhase, OperationRecord } from './operation.types';

export const newOperationId = (): string => `op_${randomUUID().replace(/-/g, '')}`;

/** What a request may say about the readiness check, in the new and the previous API's shapes. */
export interface HealthCheckInput {
  healthCheck?: { port?: number; path?: string; timeoutMs?: number; maxWaitTimeMs?: number };
  healthCheckConfig?: { timeoutMs?: number; maxWaitTimeMs?: number; targetPort?: number };
  targetPort?: number;
}

/** The request's settings, in the new shape, keeping only what was given (stored on the instance for later starts). */
export function healthCheckFromRequest(input: HealthCheckInput): Partial<HealthCheckSettings> | null {
  const legacy = input.healthCheckConfig ?? {};
  const hc = input.healthCheck ?? {};
  const merged: Partial<HealthCheckSettings> = {
    port: hc.port ?? input.targetPort ?? legacy.targetPort,
    path: hc.path,
    timeoutMs: hc.timeoutMs ?? legacy.timeoutMs,
    maxWaitTimeMs: hc.maxWaitTimeMs ?? legacy.maxWaitTimeMs,
  };
  const given = Object.fromEntries(
    Object.entries(merged).filter(([, v]) => v !== undefined),
  ) as Partial<HealthCheckSettings>;
  return Object.keys(given).length > 0 ? given : null;
}

/** Request settings over the instance's stored ones over the configured defaults. */
export function resolveHealthCheck(
  request: Partial<HealthCheckSettings> | null,
  stored: Partial<HealthCheckSettings> | null,
  config: InstancesConfig,
): HealthCheckSettings {
  const pick = <K extends keyof HealthCheckSettings>(k: K): HealthCheckSettings[K] | undefined =>
    request?.[k] ?? stored?.[k];
  return {
    port: pick('port'),
    path: pick('path') ?? '/',
    timeoutMs: pick('timeoutMs') ?? config.readinessRequestTimeoutMs,
    maxWaitTimeMs: pick('maxWaitTimeMs') ?? config.startupTimeoutMs,
  };
}

export function buildOperation(args: {
  id?: string;
  kind: OperationKind;
  phase: OperationPhase;
  instanceId: string;
  novitaInstanceId: string;
  settings: HealthCheckSettings;
  webhookUrl: string | null;
  now: number;
}): OperationRecord {
  const at = new Date(args.now).toISOString();
  const { port, path, timeoutMs } = args.settings;
  return {
    id: args.id ?? newOperationId(),
    kind: args.kind,
    instanceId: args.instanceId,
    novitaInstanceId: args.novitaInstanceId,
    phase: args.phase,
    deadline: args.now + args.settings.maxWaitTimeMs,
    attempts: 0,
    polls: 0,
    readiness: { ...(port !== undefined ? { port } : {}), path, timeoutMs },
    webhookUrl: args.webhookUrl,
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * The longest a caller can still be waiting for one idempotent Novita call (every attempt timing
 * out, with the longest backoff between them), plus a margin. An intent older than this has no
 * live caller, so the reconciler may settle it.
 */
export function novitaCallBudgetMs(
  novita: Pick<NovitaConfig, 'timeoutMs' | 'maxRetries' | 'retryMaxDelayMs'>,
): number {
  return novita.timeoutMs * (novita.maxRetries + 1) + novita.retryMaxDelayMs * novita.maxRetries + 2_000;
}

/** Errors after which Novita certainly did not apply the call (it answered with a refusal). */
export const REFUSED_BY_NOVITA: ReadonlySet<string> = new Set([
  'INSUFFICIENT_RESOURCES',
  'UPSTREAM_BAD_REQUEST',
  'UNAUTHORIZED_UPSTREAM',
  'RATE_LIMITED',
  'INVALID_STATE',
  'NOT_FOUND',
  'VALIDATION_ERROR',
]);
