/** Requests seen in one second of the sliding window. */
interface Bucket {
  second: number;
  count: number;
  errors: number;
  durationSum: number;
}

const WINDOW_SECONDS = 60;

/**
 * The last minute of HTTP traffic in per-second buckets, for /health's performance block: requests
 * per minute, mean response time and error rate. Prometheus keeps the long-term series; this only
 * answers "how is this replica doing right now" without a query language.
 */
export class HttpWindow {
  private readonly buckets: Bucket[] = Array.from({ length: WINDOW_SECONDS }, () => ({
    second: -1,
    count: 0,
    errors: 0,
    durationSum: 0,
  }));

  constructor(private readonly clock: () => number = Date.now) {}

  record(statusCode: number, durationSec: number): void {
    const second = Math.floor(this.clock() / 1000);
    const bucket = this.buckets[second % WINDOW_SECONDS];
    if (bucket.second !== second) Object.assign(bucket, { second, count: 0, errors: 0, durationSum: 0 });
    bucket.count++;
    bucket.durationSum += durationSec;
    // Server-side failures only: a 404 or 401 is the caller's problem, not this service's.
    if (statusCode >= 500) bucket.errors++;
  }

  /** Totals over the last 60 seconds (the current, partial second included). */
  lastMinute(): { requestsPerMinute: number; averageResponseTimeMs: number; errorRate: number } {
    const now = Math.floor(this.clock() / 1000);
    let count = 0;
    let errors = 0;
    let durationSum = 0;
    for (const b of this.buckets) {
      if (b.second <= now - WINDOW_SECONDS || b.second > now) continue;
      count += b.count;
      errors += b.errors;
      durationSum += b.durationSum;
    }
    return {
      requestsPerMinute: count,
      averageResponseTimeMs: count === 0 ? 0 : round((durationSum / count) * 1000),
      errorRate: count === 0 ? 0 : round(errors / count, 4),
    };
  }
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
