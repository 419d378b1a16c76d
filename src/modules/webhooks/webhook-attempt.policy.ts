import { BackoffSettings, backoffDelayMs, hasAttemptsLeft } from './webhook-backoff.policy';
import { DeliveryAttempt, DeliveryRecord } from './webhook-delivery.types';
import { WebhookHttpOutcome } from './webhook-http.sender';

export interface RetrySettings extends BackoffSettings {
  maxAttempts: number;
}

/** Error recorded for an attempt whose worker vanished before recording what happened. */
export const INTERRUPTED_ATTEMPT_ERROR =
  'attempt interrupted: the worker stopped before recording its outcome';

/**
 * The record after one attempt: 2xx → delivered; 410 → gone (the receiver asked us to stop);
 * a refused target → failed at once (retrying cannot help); anything else → pending again after a
 * backoff delay, or failed when the attempt budget is spent. Pure, so the schedule is unit-tested.
 */
export function applyAttemptOutcome(
  record: DeliveryRecord,
  startedAtMs: number,
  outcome: WebhookHttpOutcome,
  settings: RetrySettings,
  random: () => number = Math.random,
): DeliveryRecord {
  const attempt: DeliveryAttempt = {
    at: new Date(startedAtMs).toISOString(),
    durationMs: outcome.durationMs,
  };
  if (outcome.status !== undefined) attempt.status = outcome.status;
  if (outcome.error !== undefined) attempt.error = outcome.error;
  const endedAt = new Date(startedAtMs + outcome.durationMs).toISOString();
  const next: DeliveryRecord = {
    ...record,
    attempts: [...record.attempts, attempt],
    updatedAt: endedAt,
    claimExpiresAt: undefined,
    claimToken: undefined,
  };
  const status = outcome.status;

  if (status !== undefined && status >= 200 && status < 300) {
    return { ...next, state: 'delivered', nextAttemptAt: null, lastError: undefined };
  }
  const lastError =
    status !== undefined ? `receiver answered HTTP ${status}` : (outcome.error ?? 'unknown error');
  if (status === 410) return { ...next, state: 'gone', nextAttemptAt: null, lastError };
  if (outcome.refused) return { ...next, state: 'failed', nextAttemptAt: null, lastError };
  return scheduleRetry(next, lastError, startedAtMs, settings, random);
}

/** Records an attempt whose claim lapsed (worker crash) and decides whether another one is allowed. */
export function applyInterruptedAttempt(
  record: DeliveryRecord,
  nowMs: number,
  settings: RetrySettings,
): DeliveryRecord {
  const claimedAt = record.claimExpiresAt ? record.updatedAt : new Date(nowMs).toISOString();
  const next: DeliveryRecord = {
    ...record,
    attempts: [...record.attempts, { at: claimedAt, error: INTERRUPTED_ATTEMPT_ERROR, durationMs: 0 }],
    updatedAt: new Date(nowMs).toISOString(),
    claimExpiresAt: undefined,
    claimToken: undefined,
    lastError: INTERRUPTED_ATTEMPT_ERROR,
  };
  // The interrupted attempt already counted; retry at once if the budget allows.
  if (!hasAttemptsLeft(next.attemptCount, settings.maxAttempts))
    return { ...next, state: 'failed', nextAttemptAt: null };
  return { ...next, state: 'pending', nextAttemptAt: new Date(nowMs).toISOString() };
}

function scheduleRetry(
  record: DeliveryRecord,
  lastError: string,
  startedAtMs: number,
  settings: RetrySettings,
  random: () => number,
): DeliveryRecord {
  if (!hasAttemptsLeft(record.attemptCount, settings.maxAttempts)) {
    return { ...record, state: 'failed', nextAttemptAt: null, lastError };
  }
  const delay = backoffDelayMs(record.attemptCount, settings, random);
  return {
    ...record,
    state: 'pending',
    nextAttemptAt: new Date(startedAtMs + delay).toISOString(),
    lastError,
  };
}
