import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CacheRegistry } from './cache-registry';
import { HttpWindow } from './http-stats';
import { HttpRequestMetrics } from './http-request-metrics';
import { JobLedger, JobOutcome } from './job-metrics';

/** Seconds; from a 5 ms cache hit to a Novita call that used up its retries. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Store commands are sub-millisecond on local Redis and tens of ms over Upstash's REST API. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900];
const BREAKER_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;

export type MigrationOutcome = 'migrated' | 'recreated' | 'failed';

/**
 * The process's Prometheus registry and every recorder the modules call. Each replica exposes its
 * own counters, so sums across replicas are totals; gauges read from shared store state are only
 * reported by one replica (see SharedStateGauges).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpWindow = new HttpWindow();
  readonly jobs = new JobLedger();
  private readonly beforeScrape: (() => Promise<void>)[] = [];
  private breakerState: () => string = () => 'closed';

  /** http_requests_total and http_request_duration_seconds: recorded on every request, so kept lean. */
  readonly httpRequests = new HttpRequestMetrics(this.registry, LATENCY_BUCKETS);
  readonly novitaCalls = new Counter({
    name: 'novita_api_requests_total',
    help: 'Logical calls to the Novita API (retries included in one call), by operation and result: ok or the error class.',
    labelNames: ['operation', 'result'] as const,
    registers: [this.registry],
  });
  readonly novitaDuration = new Histogram({
    name: 'novita_api_request_duration_seconds',
    help: 'Duration of logical Novita calls including retries and backoff, by operation.',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly storeDuration = new Histogram({
    name: 'state_store_command_duration_seconds',
    help: 'Round-trip time of state store commands, by command.',
    labelNames: ['command'] as const,
    buckets: STORE_BUCKETS,
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'state_store_command_errors_total',
    help: 'State store commands that failed (connection, timeout or server error), by command.',
    labelNames: ['command'] as const,
    registers: [this.registry],
  });
  readonly jobPasses = new Counter({
    name: 'background_job_passes_total',
    help: 'Passes of background jobs run by this replica, by job and outcome (success or failure).',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'background_job_pass_duration_seconds',
    help: 'Duration of background job passes run by this replica, by job.',
    labelNames: ['job'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });
  readonly jobLastSuccess = new Gauge({
    name: 'background_job_last_success_timestamp_seconds',
    help: 'Unix time of the last successful pass of each background job on this replica.',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts made by this replica, by outcome: delivered, retrying, failed (gave up) or gone (410).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookQueueDepth = new Gauge({
    name: 'webhook_queue_depth',
    help: 'Webhook deliveries waiting for an attempt (shared state; reported by one replica only).',
    registers: [this.registry],
  });
  readonly instances = new Gauge({
    name: 'gpu_instances',
    help: 'Instance records by status and managed flag (shared state; reported by one replica only).',
    labelNames: ['status', 'managed'] as const,
    registers: [this.registry],
  });
  readonly autoStopStops = new Counter({
    name: 'auto_stop_stops_total',
    help: 'Idle instances stopped by auto-stop on this replica, by mode (stopped or dry_run).',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });
  readonly autoStopGpuSeconds = new Counter({
    name: 'auto_stop_gpu_seconds_saved_total',
    help: 'GPU time auto-stop saved (GPUs times the idle time it cut), in seconds.',
    registers: [this.registry],
  });
  readonly autoStopDollars = new Counter({
    name: 'auto_stop_cost_saved_dollars_total',
    help: 'Estimated cost auto-stop saved, in US dollars.',
    registers: [this.registry],
  });
  readonly migrations = new Counter({
    name: 'spot_migrations_total',
    help: 'Spot migrations finished on this replica, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(private readonly caches: CacheRegistry) {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named *_total break Prometheus naming rules (promtool flags them); prom-client also
    // exports the same counts per type as nodejs_active_{handles,requests,resources}.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(name);
    }
    // collect() runs with `this` bound to the metric, so the service's state is reached through closures.
    const currentBreakerState = () => this.breakerState();
    const cacheStats = () => this.caches.stats();
    new Gauge({
      name: 'novita_circuit_breaker_state',
      help: 'Circuit breaker in front of the Novita API: 1 for the current state, 0 for the others.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const current = currentBreakerState();
        for (const s of BREAKER_STATES) this.set({ state: s }, s === current ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cache_entries',
      help: 'Entries held by each in-process cache of Novita data.',
      labelNames: ['cache'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of await cacheStats()) this.set({ cache: s.name }, s.entries);
      },
    });
    new Counter({
      name: 'cache_lookups_total',
      help: 'Look-ups in each in-process cache, by result (hit or miss).',
      labelNames: ['cache', 'result'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of await cacheStats()) {
          this.inc({ cache: s.name, result: 'hit' }, s.hits);
          this.inc({ cache: s.name, result: 'miss' }, s.misses);
        }
      },
    });
  }

  /** The Prometheus text exposition, after refreshing gauges that need a store read. */
  async render(): Promise<string> {
    await Promise.all(this.beforeScrape.map((fn) => fn()));
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Runs before each scrape; for gauges computed from the store. */
  onScrape(fn: () => Promise<void>): void {
    this.beforeScrape.push(fn);
  }

  watchBreaker(state: () => string): void {
    this.breakerState = state;
  }

  recordHttp(method: string, route: string, statusCode: number, durationSec: number): void {
    this.httpRequests.record(method, route, statusCode, durationSec);
    this.httpWindow.record(statusCode, durationSec);
  }

  /** result: 'ok' or the error class (an ErrorCode in lower case). */
  recordNovitaCall(operation: string, result: string, durationSec: number): void {
    this.novitaCalls.inc({ operation, result });
    this.novitaDuration.observe({ operation }, durationSec);
  }

  recordStoreCommand(command: string, durationSec: number, failed: boolean): void {
    this.storeDuration.observe({ command }, durationSec);
    if (failed) this.storeErrors.inc({ command });
  }

  /** Called by the background loop after every pass it ran (not for ticks it skipped). */
  recordJobPass(job: string, outcome: JobOutcome, durationSec: number, error?: string): void {
    const at = new Date();
    this.jobPasses.inc({ job, outcome });
    this.jobDuration.observe({ job }, durationSec);
    if (outcome === 'success') this.jobLastSuccess.set({ job }, at.getTime() / 1000);
    this.jobs.record(job, outcome, durationSec, at, error);
  }

  recordWebhookAttempt(outcome: 'delivered' | 'retrying' | 'failed' | 'gone'): void {
    this.webhookDeliveries.inc({ outcome });
  }

  /** One auto-stop action taken (stopped or deleted), or one that would have been taken in dry run. */
  recordAutoStop(action: { dryRun: boolean }): void {
    this.autoStopStops.inc({ mode: action.dryRun ? 'dry_run' : 'stopped' });
  }

  /** What an auto-stopped instance saved, counted when its window closes (it was used or started again). */
  recordAutoStopSavings(saved: { gpuHours: number; dollars: number }): void {
    this.autoStopGpuSeconds.inc(Math.max(0, saved.gpuHours * 3600));
    this.autoStopDollars.inc(Math.max(0, saved.dollars));
  }

  recordMigration(outcome: MigrationOutcome): void {
    this.migrations.inc({ outcome });
  }
}
