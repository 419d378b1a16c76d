import { randomUUID } from 'node:crypto';
import { BillingMode, PortMapping } from '../../infra/novita/novita.types';
import type { IdlePolicyInput } from './idle-policy';

/**
 * Our normalized instance statuses. `ready` (the readiness check passed) and `failed` (it did not)
 * are ours; the rest follow Novita's raw status through status-mapping.ts. `unknown` keeps a raw
 * status Novita added after this table was written visible instead of guessing.
 */
export const INSTANCE_STATUSES = [
  'creating',
  'starting',
  'running',
  'ready',
  'stopping',
  'stopped',
  'migrating',
  'deleting',
  'deleted',
  'failed',
  'terminated',
  'unknown',
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

/** Outcome of the last readiness check while Novita reports the instance as running. */
export type ReadinessState = 'pending' | 'passed' | 'skipped' | 'failed';

export interface HealthCheckSettings {
  /** Container port to probe; default: the first port mapping of type http. */
  port?: number;
  /** Path appended to the port's endpoint (default "/"). */
  path: string;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Overall deadline for running + ready, from the operation's start. */
  maxWaitTimeMs: number;
}

/** What an instance was created from; kept so it can be recreated (migration recovery). */
export interface InstanceSpec {
  productName: string;
  templateId?: string;
  imageUrl: string;
  imageAuthId?: string;
  ports: { port: number; type: 'http' | 'tcp' }[];
  envs: { key: string; value: string }[];
  command?: string;
  gpuNum: number;
  rootfsSize: number;
  billingMode: BillingMode;
  preferredRegion: string;
}

export interface InstanceRecord {
  /** Our stable id (inst_...). */
  id: string;
  name: string;
  novitaInstanceId: string | null;
  status: InstanceStatus;
  novitaStatus: string | null;
  readiness: ReadinessState | null;
  spec: InstanceSpec;
  region: string | null;
  clusterId: string | null;
  productId: string | null;
  productName: string;
  billingMode: BillingMode;
  /** USD per hour for the whole instance (unit price x gpuNum) at creation. */
  price: number | null;
  gpuNum: number;
  portMappings: PortMapping[];
  webhookUrl: string | null;
  healthCheck: Partial<HealthCheckSettings> | null;
  /** The open operation on this instance, if any; operations on one instance are serialized. */
  activeOperationId: string | null;
  lastError: { code: string; message: string; at: string } | null;
  statusError: { state?: string; message?: string } | null;
  spotStatus: string | null;
  /**
   * True for instances this service created or a user adopted: auto-stop and migration act only on
   * these. Instances sync found on the account are recorded with false. Records written before the
   * flag existed lack it and count as managed (see isManaged).
   */
  managed?: boolean;
  /**
   * The idle policy asked for at create, adopt or PUT .../auto-stop; missing fields (or no policy at
   * all) take the operator's defaults when it is applied (see idle-policy.ts effectivePolicy).
   */
  autoStop?: IdlePolicyInput | null;
  /** Where the record came from: created through this API, or found on Novita by sync. */
  origin?: 'api' | 'novita';
  /** When sync first saw the instance missing from Novita (it is kept as terminated until retention ends). */
  terminatedAt?: string | null;
  createdAt: string;
  updatedAt: string;
  /** Last time the record was compared with Novita. */
  lastSyncedAt: string | null;
  startedAt: string | null;
  readyAt: string | null;
  stoppedAt: string | null;
  lastUsedAt: string | null;
  deletedAt: string | null;
}

export const isManaged = (r: Pick<InstanceRecord, 'managed'>): boolean => r.managed !== false;

/** Our stable instance id (inst_ + 20 hex characters). */
export const newInstanceId = (): string => `inst_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
