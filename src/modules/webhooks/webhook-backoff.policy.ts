export interface BackoffSettings {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * Share of each delay that is randomised. The delay is drawn from [(1 - JITTER) * d, d], so a
 * doubled delay (at least 1.6 d) always exceeds the previous one (at most d): gaps keep growing
 * until the cap, while replicas retrying the same receiver still spread out.
 */
export const BACKOFF_JITTER_RATIO = 0.2;

/** The un-jittered delay before attempt n + 1, after n failed attempts (n >= 1): initial * 2^(n-1), capped. */
export function baseBackoffMs(failedAttempts: number, settings: BackoffSettings): number {
  const exponent = Math.max(0, failedAttempts - 1);
  // 2^exponent overflows to Infinity for absurd counts; the cap keeps the result finite.
  return Math.min(settings.maxBackoffMs, settings.initialBackoffMs * 2 ** exponent);
}

/** The delay actually used: the base delay minus up to BACKOFF_JITTER_RATIO of it. */
export function backoffDelayMs(
  failedAttempts: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number {
  const base = baseBackoffMs(failedAttempts, settings);
  return Math.round(base * (1 - BACKOFF_JITTER_RATIO * random()));
}

/** Whether another attempt is allowed after attemptCount attempts. */
export function hasAttemptsLeft(attemptCount: number, maxAttempts: number): boolean {
  return attemptCount < maxAttempts;
}
