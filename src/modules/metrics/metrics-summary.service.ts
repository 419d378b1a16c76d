import { Injectable } from '@nestjs/common';
import { CacheRegistry, CacheStats, ratio } from '../../infra/metrics/cache-registry';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { CacheSummary, MetricsResponse, MetricsSummaryResponse } from './dto/operations.responses';
import { SystemSampler, SystemStats } from './system-stats';

/** The JSON views of this replica's metrics, read from the same prom-client counters /metrics exposes. */
@Injectable()
export class MetricsSummaryService {
  private readonly system = new SystemSampler();

  constructor(
    private readonly metrics: MetricsService,
    private readonly caches: CacheRegistry,
  ) {}

  systemStats(): SystemStats {
    return this.system.read();
  }

  async summary(now = new Date()): Promise<MetricsSummaryResponse> {
    const requests = { values: this.metrics.httpRequests.counts() };
    const caches = await this.caches.stats();
    const jobs = this.metrics.jobs.snapshot();
    return {
      timestamp: now.toISOString(),
      requests: {
        total: sum(requests.values),
        byStatusCode: groupBy(requests.values, (l) => String(l.status_code)),
      },
      jobs: {
        processed: Object.values(jobs).reduce((n, j) => n + j.passes, 0),
        byType: Object.fromEntries(Object.entries(jobs).map(([name, j]) => [name, j.passes])),
      },
      system: this.system.read(),
      cache: cacheSummary(caches),
    };
  }

  async details(now = new Date()): Promise<MetricsResponse> {
    const requests = { values: this.metrics.httpRequests.counts() };
    const [novita, webhooks, caches] = await Promise.all([
      this.metrics.novitaCalls.get(),
      this.metrics.webhookDeliveries.get(),
      this.caches.stats(),
    ]);
    const jobs = this.metrics.jobs.snapshot();
    const byResult = groupBy(novita.values, (l) => String(l.result));
    const novitaTotal = sum(novita.values);
    return {
      timestamp: now.toISOString(),
      requests: {
        total: sum(requests.values),
        byStatusCode: groupBy(requests.values, (l) => String(l.status_code)),
        byRoute: groupBy(requests.values, (l) => `${l.method} ${l.route}`),
        ...this.metrics.httpWindow.lastMinute(),
      },
      jobs: {
        processed: Object.values(jobs).reduce((n, j) => n + j.passes, 0),
        failed: Object.values(jobs).reduce((n, j) => n + j.failures, 0),
        byType: jobs,
      },
      novita: { total: novitaTotal, errors: novitaTotal - (byResult.ok ?? 0), byResult },
      webhooks: { attemptsByOutcome: groupBy(webhooks.values, (l) => String(l.outcome)) },
      system: this.system.read(),
      cache: cacheSummary(caches),
    };
  }
}

type Sample = { labels: Partial<Record<string, string | number>>; value: number };

function sum(values: Sample[]): number {
  return values.reduce((n, v) => n + v.value, 0);
}

function groupBy(values: Sample[], key: (labels: Sample['labels']) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[key(v.labels)] = (out[key(v.labels)] ?? 0) + v.value;
  return out;
}

export function cacheSummary(caches: CacheStats[]): CacheSummary {
  const hits = caches.reduce((n, c) => n + c.hits, 0);
  const misses = caches.reduce((n, c) => n + c.misses, 0);
  return {
    hitRatio: ratio(hits, misses),
    totalSize: caches.reduce((n, c) => n + c.sizeBytes, 0),
    totalEntries: caches.reduce((n, c) => n + c.entries, 0),
  };
}
