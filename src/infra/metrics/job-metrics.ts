export type JobOutcome = 'success' | 'failure';

export interface JobStatus {
  passes: number;
  failures: number;
  lastPassAt: string | null;
  lastSuccessAt: string | null;
  lastOutcome: JobOutcome | null;
  lastDurationMs: number | null;
  lastError: string | null;
}

/** Per background job: what this replica ran. Feeds /health and /api/metrics; Prometheus gets the same numbers. */
export class JobLedger {
  private readonly jobs = new Map<string, JobStatus>();

  record(job: string, outcome: JobOutcome, durationSec: number, at: Date, error?: string): void {
    const s = this.jobs.get(job) ?? {
      passes: 0,
      failures: 0,
      lastPassAt: null,
      lastSuccessAt: null,
      lastOutcome: null,
      lastDurationMs: null,
      lastError: null,
    };
    s.passes++;
    s.lastPassAt = at.toISOString();
    s.lastOutcome = outcome;
    s.lastDurationMs = Math.round(durationSec * 1000);
    if (outcome === 'success') {
      s.lastSuccessAt = s.lastPassAt;
    } else {
      s.failures++;
      s.lastError = error ?? null;
    }
    this.jobs.set(job, s);
  }

  snapshot(): Record<string, JobStatus> {
    return Object.fromEntries([...this.jobs].map(([k, v]) => [k, { ...v }]));
  }
}
