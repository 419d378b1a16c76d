import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { MetricsService } from '../metrics/metrics.service';
import { Lease, StateStore } from '../store/state-store';
import {
  JobDefinition,
  JobState,
  LeaseLostError,
  PassContext,
  PassInProgressError,
  PassResult,
  RunSummary,
} from './job.types';

/** The one fixed tick; each job's own interval decides whether a pass is due on a tick. */
export const LOOP_TICK_MS = 100;
/** A holder that stops renewing (killed, partitioned) is replaced within this. */
export const LEASE_TTL_MS = 10_000;
const RENEW_AFTER_MS = 3_000;
/** Runs kept per job in the store (periodic) or memory (frequent). */
export const HISTORY_LIMIT = 50;

const stateKey = (job: string): string => `jobs:${job}:state`;
const currentRunKey = (job: string): string => `jobs:${job}:current`;
const scheduleLease = (job: string): string => `job:${job}`;
const runLease = (job: string): string => `job-run:${job}`;

interface JobSlot {
  def: JobDefinition;
  lease: Lease | null;
  renewedAt: number;
  /** Earliest time this replica tries to take the lease again after failing to. */
  nextLeaseAttemptAt: number;
  running: Promise<RunSummary> | null;
  runningId: string | null;
  /** periodic: when the next scheduled pass is due, as last read from the store. */
  dueAt: number;
  startupDone: boolean;
  /** frequent: in-memory history and last success. */
  history: RunSummary[];
  lastSuccessAt: number | null;
}

export type RunListener = (summary: RunSummary) => void;

/**
 * The single background loop. Every job (operations reconciler, webhook deliveries, sync,
 * auto-stop, migration) registers here; one @Interval tick asks each whether a pass is due. Only the
 * replica holding a job's lease runs its scheduled passes; a periodic job's last run lives in the
 * store, so its interval holds across replicas and restarts. A pass never overlaps the previous one
 * on this replica, and a periodic pass also holds the job's run lock, so a manual pass on another
 * replica cannot overlap it either. Every pass ends in a run summary.
 */
@Injectable()
export class BackgroundLoop implements OnApplicationShutdown {
  private readonly logger = new Logger(BackgroundLoop.name);
  private readonly slots = new Map<string, JobSlot>();
  private readonly listeners: RunListener[] = [];
  private readonly bootAt = Date.now();
  private stopping = false;
  private ticking = false;

  constructor(
    private readonly store: StateStore,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  register(def: JobDefinition): void {
    if (this.slots.has(def.name)) throw new Error(`background job ${def.name} registered twice`);
    this.slots.set(def.name, {
      def,
      lease: null,
      renewedAt: 0,
      nextLeaseAttemptAt: 0,
      running: null,
      runningId: null,
      dueAt: 0,
      startupDone: !def.runOnStart,
      history: [],
      lastSuccessAt: null,
    });
  }

  /** Called with every finished pass (metrics). */
  onRun(listener: RunListener): void {
    this.listeners.push(listener);
  }

  jobs(): JobDefinition[] {
    return [...this.slots.values()].map((s) => s.def);
  }

  @Interval('background-loop', LOOP_TICK_MS)
  async tick(now = Date.now()): Promise<void> {
    if (this.stopping || this.ticking) return;
    this.ticking = true;
    try {
      await Promise.all(
        [...this.slots.values()].map((slot) =>
          this.tickJob(slot, now).catch((err: unknown) => {
            // Store unreachable and the like: the next tick tries again.
            this.logger.debug({ job: slot.def.name, err: String(err) }, 'background tick failed');
          }),
        ),
      );
    } finally {
      this.ticking = false;
    }
  }

  /**
   * Runs one pass now on this replica, whoever holds the schedule lease. Throws PassInProgressError
   * when a pass of this job is already running here or (periodic jobs) on another replica.
   */
  async runNow(name: string, options: Record<string, unknown> = {}): Promise<RunSummary> {
    const slot = this.slot(name);
    if (slot.running) throw new PassInProgressError(name, slot.runningId);
    return this.startPass(slot, 'manual', options);
  }

  /** Waits for this replica's running pass of the job, if any (tests, shutdown). */
  async idle(name: string): Promise<void> {
    await this.slot(name).running?.catch(() => undefined);
  }

  /** The job's recent runs, newest first, and what is known about its schedule. */
  async status(name: string): Promise<{
    enabled: boolean;
    intervalMs: number;
    running: { runId: string; startedAt: string; replica: 'this' | 'other' } | null;
    lastRun: RunSummary | null;
    lastSuccessAt: string | null;
    nextRunAt: string | null;
    history: RunSummary[];
  }> {
    const slot = this.slot(name);
    const { def } = slot;
    let state: JobState;
    let current: { runId: string; startedAt: string } | null = null;
    if (def.kind === 'periodic') {
      const [s, c] = await this.store.getMany<unknown>([stateKey(name), currentRunKey(name)]);
      state = (s as JobState | null) ?? emptyState();
      current = c as { runId: string; startedAt: string } | null;
    } else {
      state = {
        lastStartedAt: null,
        lastRun: slot.history[0] ?? null,
        lastSuccessAt: slot.lastSuccessAt,
        history: slot.history,
      };
    }
    const running = slot.runningId
      ? { runId: slot.runningId, startedAt: current?.startedAt ?? '', replica: 'this' as const }
      : current
        ? { ...current, replica: 'other' as const }
        : null;
    const next = Math.max(Date.now(), (state.lastStartedAt ?? Date.now()) + def.intervalMs);
    // An infinite interval is a startup-only job: no next run.
    const nextRunAt =
      def.enabled && def.kind === 'periodic' && Number.isFinite(next) ? new Date(next).toISOString() : null;
    return {
      enabled: def.enabled,
      intervalMs: def.intervalMs,
      running,
      lastRun: state.lastRun,
      lastSuccessAt: state.lastSuccessAt ? new Date(state.lastSuccessAt).toISOString() : null,
      nextRunAt,
      history: state.history,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    const slots = [...this.slots.values()];
    await Promise.all(slots.map((s) => s.running?.catch(() => undefined)));
    await Promise.all(
      slots.map(async (s) => {
        if (s.lease) await this.store.releaseLease(s.lease).catch(() => false);
        s.lease = null;
      }),
    );
  }

  private slot(name: string): JobSlot {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`unknown background job ${name}`);
    return slot;
  }

  private async tickJob(slot: JobSlot, now: number): Promise<void> {
    const { def } = slot;
    if (slot.running || !def.enabled) return;
    if (def.kind === 'frequent') {
      if (now < slot.dueAt) return;
      if (!(await this.holdScheduleLease(slot, now))) return;
      slot.dueAt = now + def.intervalMs;
      void this.startPass(slot, 'schedule').catch(() => undefined);
      return;
    }
    if (now < slot.dueAt && slot.startupDone) return;
    if (!(await this.holdScheduleLease(slot, now))) return;
    // Due by what this replica last read; confirm against the store (another replica may have run it).
    const state = (await this.store.get<JobState>(stateKey(def.name))) ?? emptyState();
    const last = state.lastStartedAt ?? 0;
    const startupDue = !slot.startupDone && last < this.bootAt;
    slot.startupDone = true;
    slot.dueAt = last + def.intervalMs;
    if (!startupDue && now < slot.dueAt) return;
    slot.dueAt = now + def.intervalMs;
    void this.startPass(slot, startupDue ? 'startup' : 'schedule').catch((err: unknown) => {
      // Rethrowing here would be an unhandled rejection and end the process: a store outage while
      // the pass took its lock or recorded its run must not. The schedule runs it again when due.
      if (!(err instanceof PassInProgressError))
        this.logger.warn({ job: def.name, err }, 'Background pass could not be started or recorded');
    });
  }

  /** Holds (or takes) the job's schedule lease; renewals cost a round trip only every few seconds. */
  private async holdScheduleLease(slot: JobSlot, now: number): Promise<boolean> {
    if (slot.lease && now - slot.renewedAt < RENEW_AFTER_MS) return true;
    if (slot.lease) {
      if (await this.store.renewLease(slot.lease, LEASE_TTL_MS)) {
        slot.renewedAt = now;
        return true;
      }
      this.logger.warn({ job: slot.def.name }, 'Lost the job lease to another replica');
      slot.lease = null;
    }
    if (now < slot.nextLeaseAttemptAt) return false;
    slot.lease = await this.store.acquireLease(scheduleLease(slot.def.name), LEASE_TTL_MS);
    if (!slot.lease) {
      slot.nextLeaseAttemptAt = now + RENEW_AFTER_MS;
      return false;
    }
    slot.renewedAt = now;
    slot.dueAt = 0;
    return true;
  }

  private startPass(
    slot: JobSlot,
    trigger: PassContext['trigger'],
    options: Record<string, unknown> = {},
  ): Promise<RunSummary> {
    const runId = `run_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    slot.runningId = runId;
    const pass = this.runPass(slot, runId, trigger, options);
    slot.running = pass;
    void pass
      .finally(() => {
        slot.running = null;
        slot.runningId = null;
      })
      .catch(() => undefined);
    return pass;
  }

  private async runPass(
    slot: JobSlot,
    runId: string,
    trigger: PassContext['trigger'],
    options: Record<string, unknown>,
  ): Promise<RunSummary> {
    const { def } = slot;
    const started = Date.now();
    let runLock: Lease | null = null;
    if (def.kind === 'periodic') {
      runLock = await this.store.acquireLease(runLease(def.name), LEASE_TTL_MS);
      if (!runLock) {
        const current = await this.store.get<{ runId: string }>(currentRunKey(def.name));
        throw new PassInProgressError(def.name, current?.runId ?? null);
      }
      await this.store.set(
        currentRunKey(def.name),
        { runId, startedAt: new Date(started).toISOString() },
        { ttlMs: LEASE_TTL_MS * 3 },
      );
    }
    let renewedAt = started;
    const ctx: PassContext = {
      runId,
      trigger,
      options,
      keepAlive: async () => {
        const now = Date.now();
        if (now - renewedAt < RENEW_AFTER_MS) return;
        renewedAt = now;
        if (runLock && !(await this.store.renewLease(runLock, LEASE_TTL_MS)))
          throw new LeaseLostError(runLease(def.name));
        if (runLock)
          await this.store.set(
            currentRunKey(def.name),
            { runId, startedAt: new Date(started).toISOString() },
            { ttlMs: LEASE_TTL_MS * 3 },
          );
      },
    };

    let result: PassResult;
    try {
      result = await def.run(ctx);
    } catch (err) {
      result = { counts: {}, outcome: 'failed', error: err instanceof Error ? err.message : String(err) };
    }
    const finished = Date.now();
    const summary: RunSummary = {
      id: runId,
      job: def.name,
      trigger,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      durationMs: finished - started,
      outcome: result.outcome ?? (result.error ? 'failed' : 'succeeded'),
      counts: result.counts,
      ...(result.error ? { error: result.error } : {}),
      ...(result.details ? { details: result.details } : {}),
    };
    try {
      await this.record(slot, summary, started);
    } finally {
      if (runLock) await this.store.releaseLease(runLock).catch(() => false);
    }
    this.metrics?.recordJobPass(
      def.name,
      summary.outcome === 'failed' ? 'failure' : 'success',
      summary.durationMs / 1000,
      summary.error,
    );
    for (const listener of this.listeners) {
      try {
        listener(summary);
      } catch {
        // a metrics listener never fails a pass
      }
    }
    if (summary.outcome === 'failed')
      this.logger.warn({ job: def.name, runId, error: summary.error }, 'Background pass failed');
    return summary;
  }

  private async record(slot: JobSlot, summary: RunSummary, started: number): Promise<void> {
    const ok = summary.outcome !== 'failed';
    if (slot.def.kind === 'frequent') {
      if (ok) slot.lastSuccessAt = Date.parse(summary.finishedAt);
      const active = !ok || Object.values(summary.counts).some((n) => n > 0);
      if (active) slot.history = [summary, ...slot.history].slice(0, HISTORY_LIMIT);
      return;
    }
    // Single writer: this replica holds the run lock, so read-modify-write cannot interleave.
    const state = (await this.store.get<JobState>(stateKey(slot.def.name))) ?? emptyState();
    const next: JobState = {
      lastStartedAt: Math.max(state.lastStartedAt ?? 0, started),
      lastRun: summary,
      lastSuccessAt: ok ? Date.parse(summary.finishedAt) : state.lastSuccessAt,
      history: [summary, ...state.history].slice(0, HISTORY_LIMIT),
    };
    await this.store.setMany([{ key: stateKey(slot.def.name), value: next }]);
    await this.store.delete(currentRunKey(slot.def.name));
    slot.dueAt = next.lastStartedAt! + slot.def.intervalMs;
  }
}

const emptyState = (): JobState => ({ lastStartedAt: null, lastRun: null, lastSuccessAt: null, history: [] });
