/** What the background loop needs to know about one kind of background work. */
export interface JobDefinition {
  /** Stable name: lease, history and metrics are keyed by it. */
  name: string;
  /** Time between the starts of two passes; Infinity for a job that runs only at startup (runOnStart). */
  intervalMs: number;
  /** A disabled job is never scheduled, not even at startup (manual passes stay possible). */
  enabled: boolean;
  /**
   * frequent: short-interval work (operations, webhook deliveries, deadline sweeps); its schedule is
   * kept in memory and only passes that did something or failed enter the history.
   * periodic: long-interval work (sync, full migration pass); last run and history live in the store
   * so the interval holds across replicas and restarts, every pass is recorded, and each pass holds
   * the job's run lock, so a manual pass on any replica never overlaps a scheduled one.
   */
  kind: 'frequent' | 'periodic';
  /** periodic only: also run once as soon as the store answers after this process started. */
  runOnStart?: boolean;
  run(ctx: PassContext): Promise<PassResult>;
}

export interface PassContext {
  runId: string;
  trigger: 'schedule' | 'startup' | 'manual';
  /** What a manual trigger asked for (e.g. dryRun); empty for scheduled passes. */
  options: Record<string, unknown>;
  /** Renews this pass's leases when due; throws LeaseLostError when another replica took over. */
  keepAlive(): Promise<void>;
}

export interface PassResult {
  /** Counts for the run summary (instances handled, changed, failed ...). */
  counts: Record<string, number>;
  /** 'partial': the pass ran but some items failed (each is handled in its own try/catch). */
  outcome?: 'succeeded' | 'partial' | 'failed';
  error?: string;
  /** Job-specific result kept with the summary (kept small: it is stored in the history). */
  details?: Record<string, unknown>;
}

export interface RunSummary {
  id: string;
  job: string;
  trigger: PassContext['trigger'];
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: 'succeeded' | 'partial' | 'failed';
  counts: Record<string, number>;
  error?: string;
  details?: Record<string, unknown>;
}

/** What the store keeps about a periodic job. */
export interface JobState {
  lastStartedAt: number | null;
  lastRun: RunSummary | null;
  lastSuccessAt: number | null;
  history: RunSummary[];
}

export class LeaseLostError extends Error {
  constructor(readonly leaseName: string) {
    super(`lease ${leaseName} was lost to another replica`);
  }
}

/** A pass is already running (on this or another replica). */
export class PassInProgressError extends Error {
  constructor(
    readonly job: string,
    readonly runId: string | null,
  ) {
    super(`a ${job} pass is already running${runId ? ` (run ${runId})` : ''}`);
  }
}
