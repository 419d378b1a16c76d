/** Durable operation records: everything the reconciler needs to carry on after a restart. */
export type OperationKind = 'create' | 'start' | 'stop' | 'delete';

/**
 * intent: written before the state-changing Novita call; the call may be in flight or its caller may
 *   have died. After `intent.settleAfter` the reconciler settles it from what Novita shows;
 * waiting_running: polling Novita until the instance runs (create/start);
 * readiness: probing the instance's HTTP endpoint until it answers 2xx/3xx;
 * waiting_stopped: polling Novita until the instance has exited (stop);
 * succeeded / failed / cancelled: closed.
 */
export type OperationPhase =
  'intent' | 'waiting_running' | 'readiness' | 'waiting_stopped' | 'succeeded' | 'failed' | 'cancelled';

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
}
