import {
  BACKOFF_JITTER_RATIO,
  backoffDelayMs,
  baseBackoffMs,
  hasAttemptsLeft,
} from './webhook-backoff.policy';

const settings = { initialBackoffMs: 1_000, maxBackoffMs: 10_000 };

describe('webhook backoff policy', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    const schedule = [1, 2, 3, 4, 5, 6, 30, 2000].map((n) => baseBackoffMs(n, settings));
    expect(schedule).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000]);
  });

  it('treats a zero count like the first failure', () => {
    expect(baseBackoffMs(0, settings)).toBe(1_000);
  });

  it('jitters downwards by at most the jitter ratio, never above the base delay', () => {
    expect(backoffDelayMs(3, settings, () => 0)).toBe(4_000);
    expect(backoffDelayMs(3, settings, () => 0.999999)).toBe(
      Math.round(4_000 * (1 - BACKOFF_JITTER_RATIO * 0.999999)),
    );
    expect(backoffDelayMs(3, settings, () => 0.5)).toBe(3_600);
    expect(backoffDelayMs(50, settings, () => 0)).toBe(10_000);
  });

  it('keeps gaps strictly growing below the cap whatever the jitter draws', () => {
    // Worst case: the previous delay drew no jitter, the next one the most.
    for (let n = 1; n < 4; n++) {
      const previousMax = backoffDelayMs(n, settings, () => 0);
      const nextMin = backoffDelayMs(n + 1, settings, () => 0.999999);
      expect(nextMin).toBeGreaterThan(previousMax);
    }
  });

  it('allows attempts until the budget is spent', () => {
    expect(hasAttemptsLeft(0, 3)).toBe(true);
    expect(hasAttemptsLeft(2, 3)).toBe(true);
    expect(hasAttemptsLeft(3, 3)).toBe(false);
  });
});
