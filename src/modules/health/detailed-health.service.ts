import { Injectable } from '@nestjs/common';
import { HealthBlockRegistry } from '../../infra/health/health-blocks';
import { ShutdownState } from '../../infra/lifecycle/shutdown-state';
import { CacheRegistry } from '../../infra/metrics/cache-registry';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { NovitaClient } from '../../infra/novita/novita-client';
import { cacheSummary } from '../metrics/metrics-summary.service';
import { SystemSampler } from '../metrics/system-stats';
import { WebhookDeliveryRepository } from '../webhooks/webhook-delivery.repository';
import { DetailedHealthResponse, JobHealth, StoreServiceHealth } from './dto/health.response';
import { StoreHealthIndicator } from './store.health';

/** Builds GET /health: every dependency and job, recent performance, system figures and contributed blocks. */
@Injectable()
export class DetailedHealthService {
  private readonly system = new SystemSampler();

  constructor(
    private readonly storeIndicator: StoreHealthIndicator,
    private readonly novita: NovitaClient,
    private readonly webhooks: WebhookDeliveryRepository,
    private readonly metrics: MetricsService,
    private readonly blocks: HealthBlockRegistry,
    private readonly shutdown: ShutdownState,
    private readonly caches: CacheRegistry,
  ) {}

  async report(now = new Date()): Promise<DetailedHealthResponse & Record<string, unknown>> {
    const [storeResult, depth, cacheStats, extra] = await Promise.all([
      this.storeIndicator.check(),
      this.webhooks.queueDepth().catch(() => null),
      this.caches.stats().catch(() => null),
      this.blocks.collect(),
    ]);
    const store = storeResult[StoreHealthIndicator.KEY] as unknown as StoreServiceHealth;
    const novita = this.novita.health();
    const novitaStatus =
      novita.circuit === 'closed' ? 'up' : novita.circuit === 'half-open' ? 'degraded' : 'down';
    const jobs: Record<string, JobHealth> = {};
    for (const [name, job] of Object.entries(this.metrics.jobs.snapshot())) {
      jobs[name] = { status: job.lastOutcome === 'failure' ? 'failing' : 'up', ...job };
    }

    let status: DetailedHealthResponse['status'] = 'healthy';
    if (novitaStatus !== 'up' || Object.values(jobs).some((j) => j.status === 'failing')) status = 'degraded';
    if (store.status === 'down') status = 'unhealthy';
    if (this.shutdown.draining) status = 'shutting_down';

    return {
      status,
      timestamp: now.toISOString(),
      uptimeSeconds: Math.round(process.uptime()),
      services: {
        novitaApi: {
          status: novitaStatus,
          circuit: novita.circuit,
          lastSuccessAt: novita.lastSuccessAt ? new Date(novita.lastSuccessAt).toISOString() : null,
          lastError: novita.lastError,
        },
        store,
        webhookQueue: { status: depth === null ? 'unknown' : 'up', depth },
        cache: cacheStats
          ? { status: 'up', caches: cacheStats.length, ...cacheSummary(cacheStats) }
          : { status: 'unknown', caches: null, hitRatio: null, totalSize: null, totalEntries: null },
        jobs,
      },
      performance: this.metrics.httpWindow.lastMinute(),
      system: this.system.read(),
      ...extra,
    };
  }
}
