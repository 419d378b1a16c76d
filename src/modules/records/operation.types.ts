/** Durable operation records: everything the reconciler needs to carry on after a restart. */
export type OperationKind = 'create' | 'start' | 'stop' | 'delete' | 'migrate';

/**
 * intent: written before the state-changing Novita call; the call may be in flight or its caller may
 *   have died. After `intent.settleAfter` the reconciler settles it from what Novita shows;
 * waiting_running: polling Novita until the instance runs (create/start);
 * readiness: probing the instance's HTTP endpoint until it answers 2xx/3xx;
 * waiting_stopped: polling Novita until the instance has exited (stop);
 * intent: a state-changing Novita call is about to be (or may have been) made; settled by observing Novita;
 * migrating / recreating: a migration's Novita job, or the replacement instance, is being followed;
 * succeeded / failed / cancelled: closed.
 */
export type OperationPhase =
  | 'intent'
  | 'migrating'
  | 'recreating'
  | 'waiting_running'
  | 'readiness'
  | 'waiting_stopped'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

export const CLOSED_PHASES: ReadonlySet<OperationPhase> = new Set(['succeeded', 'failed', 'cancelled']);

export interface ReadinessConfig {
  port?: number;
  path: string;
  timeoutMs: number;
}

export interface ReadinessAttempt {
  at: string;
  endpoint: string;
  ok: boolean;
  httpStatus?: number;
  error?: string;
  durationMs: number;
}

/** The Novita call an intent announces, and when the reconciler may settle it without its caller. */
export interface OperationIntent {
  call: 'create' | 'start' | 'stop' | 'delete';
  /** Epoch ms when the intent was written (a create's instance cannot be older than this on Novita). */
  writtenAt: number;
  /** Epoch ms after which the caller can no longer be waiting for Novita (timeouts and retries included). */
  settleAfter: number;
  /** create: the store key of the request's Idempotency-Key entry, answered when the intent is settled. */
  idempotencyKey?: string;
}

export interface OperationRecord {
  id: string;
  kind: OperationKind;
  instanceId: string;
  /** Empty while a create intent does not know Novita's id yet. */
  novitaInstanceId: string;
  phase: OperationPhase;
  /** Epoch ms after which an open operation fails. */
  deadline: number;
  /** Readiness probes made so far. */
  attempts: number;
  /** Novita polls made so far. */
  polls: number;
  readiness: ReadinessConfig;
  intent?: OperationIntent;
  /** The request's webhook URL (overrides the instance's). */
  webhookUrl: string | null;
  createdAt: string;
  updatedAt: string;
  runningAt?: string;
  lastCheck?: ReadinessAttempt;
  /** Last transient failure while advancing (Novita unreachable...); the next pass retries. */
  lastError?: string;
  result?: { readiness: 'passed' | 'skipped'; endpoint?: string; httpStatus?: number } | { stopped: true };
  error?: { code: string; message: string };
  /** kind 'migrate' only: where the spot recovery stands (see modules/migration). */
  migration?: MigrationProgress;
}

/** The finer state of a spot-recovery operation; the op's phase mirrors it for generic readers. */
export type MigrationStep =
  | 'queued'
  | 'migrate_intent'
  | 'migrating'
  | 'recreate_intent'
  | 'delete_old'
  | 'waiting_running'
  | 'readiness'
  | 'done';

export interface MigrationProgress {
  step: MigrationStep;
  reason: 'spot_reclaim';
  triggeredBy: 'automatic_migration' | 'manual_trigger';
  detectedAt: string;
  /** When Novita says the reclaim happened (epoch ms), if it says. */
  reclaimedAt: number | null;
  /** The Novita instance that was reclaimed. */
  originalNovitaInstanceId: string;
  /** Set just before the migrate call is sent; an intent with it set is settled by observing Novita. */
  migrateAttemptAt?: number;
  migrateCalledAt?: string;
  jobId?: string;
  jobState?: string;
  /** Why Novita's migration did not work (job failed, timed out, refused). */
  failure?: { code: string; message: string; at: string };
  /** Recreation after a failed migration. */
  recreate?: {
    /** Set just before the create call; settled by looking the name up on Novita. */
    attemptAt?: number;
    attempts: number;
    newNovitaInstanceId?: string;
    region?: string;
    clusterId?: string;
    productId?: string;
    /** USD per GPU-hour of the chosen product. */
    unitPrice?: number;
    oldDeletedAt?: string;
  };
  /** When the job (or the replacement) reached running. */
  runningAt?: string;
  completedAt?: string;
  /** Milliseconds from detection to ready. */
  migrationTimeMs?: number;
}
