import {
  BulkheadPolicy,
  CircuitBreakerPolicy,
  ConsecutiveBreaker,
  DelegateBackoff,
  ExponentialBackoff,
  IBackoff,
  IDefaultPolicyContext,
  IRetryBackoffContext,
  IPolicy,
  RetryPolicy,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { NovitaConfig } from '../../config/config.types';
import {
  isBreakerFailure,
  isNotConnectedError,
  isRetryableError,
  retryAfterMsOf,
} from './novita-error.classifier';

/** Longest Retry-After we sit out inside one call; a longer one is surfaced as UPSTREAM_RATE_LIMITED instead. */
export const DEFAULT_RETRY_AFTER_CAP_MS = 30_000;
/** Calls waiting for a bulkhead slot; only a runaway caller fills this. */
export const DEFAULT_BULKHEAD_QUEUE = 10_000;

/** Told about every logical call (retries included), for metrics. */
export interface NovitaCallObserver {
  /** result is 'ok' or the classified error code in lower case. */
  recordNovitaCall(operation: string, result: string, durationSec: number): void;
}

export interface ResilienceOptions {
  retryAfterCapMs?: number;
  bulkheadQueue?: number;
  observer?: NovitaCallObserver;
}

/** The context our innermost function receives: the per-attempt AbortSignal from the timeout policy. */
export type AttemptPolicy = IPolicy<IDefaultPolicyContext>;

export interface NovitaPolicies {
  /** GETs, start, stop, restart, delete: repeated sends are harmless. */
  idempotent: AttemptPolicy;
  /** create and migrate: resent only when the request cannot have reached Novita. */
  nonIdempotent: AttemptPolicy;
  breaker: CircuitBreakerPolicy;
  bulkhead: BulkheadPolicy;
}

/**
 * Exponential backoff with decorrelated jitter, never shorter than the Retry-After of the 429 that
 * caused the retry. Longer Retry-After values never get here: isRetryableError rejects them.
 */
export function retryAfterAwareBackoff(
  config: Pick<NovitaConfig, 'retryBaseDelayMs' | 'retryMaxDelayMs'>,
): DelegateBackoff<IRetryBackoffContext<unknown>, IBackoff<unknown>> {
  const exponential = new ExponentialBackoff({
    initialDelay: config.retryBaseDelayMs,
    maxDelay: config.retryMaxDelayMs,
  });
  return new DelegateBackoff<IRetryBackoffContext<unknown>, IBackoff<unknown>>((context, previous) => {
    const step = previous ? previous.next(context) : exponential.next();
    const retryAfter = 'error' in context.result ? (retryAfterMsOf(context.result.error) ?? 0) : 0;
    return { delay: Math.max(step.duration, retryAfter), state: step };
  });
}

/**
 * Order, outermost first: bulkhead → breaker → retry → timeout.
 * - Timeout innermost, per attempt: one slow attempt costs one timeout, and the retry can still try
 *   again; a timeout around the retry would make the last attempts share whatever time is left.
 * - Retry inside the breaker: the breaker counts logical calls, so one call retried three times is
 *   one failure, a call that succeeds on its second attempt is a success, and an open breaker fails
 *   fast before any attempt or backoff (a retry outside would sleep and hit the open breaker again).
 * - Bulkhead outermost: it bounds logical calls in flight, so retries cannot multiply the load on
 *   Novita beyond maxConcurrent requests, and calls rejected by an open breaker free their slot at once.
 */
export function buildNovitaPolicies(config: NovitaConfig, options: ResilienceOptions = {}): NovitaPolicies {
  const retryAfterCapMs = options.retryAfterCapMs ?? DEFAULT_RETRY_AFTER_CAP_MS;
  const limiter = bulkhead(config.maxConcurrent, options.bulkheadQueue ?? DEFAULT_BULKHEAD_QUEUE);
  const breaker = circuitBreaker(handleWhen(isBreakerFailure), {
    breaker: new ConsecutiveBreaker(config.breakerThreshold),
    halfOpenAfter: config.breakerHalfOpenAfterMs,
  });
  const backoff = retryAfterAwareBackoff(config);
  const retryIdempotent = retry(
    handleWhen((err) => isRetryableError(err, retryAfterCapMs)),
    { maxAttempts: config.maxRetries, backoff },
  );
  // A create or migrate that may have reached Novita is never resent: a retry could create a second
  // instance (or start a second migration) while the first is still being processed. Only a failure
  // before the TCP connection opened (ECONNREFUSED, DNS) proves nothing was sent, so only that is
  // retried. A timeout, a reset connection, a 5xx or even a 429 are not: Novita may have acted.
  const retryNonIdempotent = retry(handleWhen(isNotConnectedError), {
    maxAttempts: config.maxRetries,
    backoff,
  });
  // The attempt's signal is aborted when the timeout fires, not after an attempt that returned: by
  // then the request is over, and an abort only costs an AbortError and a CanceledError (stack
  // traces included) per Novita call, 100 of them per walk of 10,000 instances.
  const perAttemptTimeout = timeout(config.timeoutMs, {
    strategy: TimeoutStrategy.Aggressive,
    abortOnReturn: false,
  });

  const compose = (retryPolicy: RetryPolicy): AttemptPolicy =>
    wrap(limiter, breaker, retryPolicy, perAttemptTimeout);
  return {
    idempotent: compose(retryIdempotent),
    nonIdempotent: compose(retryNonIdempotent),
    breaker,
    bulkhead: limiter,
  };
}

/**
 * Longest a single call can take once it holds a bulkhead slot: every attempt hits the timeout and
 * every backoff is at its longest. Used by tests as a correctness bound (and useful for callers' budgets).
 */
export function maxCallDurationMs(config: NovitaConfig, longestRetryAfterMs = 0): number {
  const longestBackoff = Math.max(config.retryMaxDelayMs, longestRetryAfterMs);
  return (config.maxRetries + 1) * config.timeoutMs + config.maxRetries * longestBackoff;
}
