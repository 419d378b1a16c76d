import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { Lease, StateStore } from '../../infra/store/state-store';
import { InstanceRepository } from '../records/instance.repository';
import { WebhookDeliveryRepository } from '../webhooks/webhook-delivery.repository';

export const METRICS_GAUGES_LEASE = 'metrics:shared-gauges';
/** Outlives a few missed scrapes; a replica that stops scraping hands the gauges over within this. */
const LEASE_TTL_MS = 60_000;
/** Scrapes closer together than this reuse the last reading instead of scanning the store again. */
const REFRESH_MS = 10_000;

/**
 * Gauges computed from state every replica shares (instance records, the webhook queue). If every
 * replica reported them, a sum over replicas would count each instance once per replica, so only
 * the replica holding a lease reports them; the others export no sample for these families.
 */
@Injectable()
export class SharedStateGauges implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SharedStateGauges.name);
  private lease: Lease | null = null;
  private readAt = 0;

  constructor(
    private readonly metrics: MetricsService,
    private readonly store: StateStore,
    private readonly instances: InstanceRepository,
    private readonly webhooks: WebhookDeliveryRepository,
  ) {}

  onModuleInit(): void {
    this.metrics.onScrape(() => this.refresh());
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.lease) await this.store.releaseLease(this.lease).catch(() => false);
    this.lease = null;
  }

  /** Reports or withdraws the gauges; never throws, so a store outage cannot fail the whole scrape. */
  async refresh(now = Date.now()): Promise<void> {
    try {
      if (!(await this.holdLease())) {
        this.metrics.instances.reset();
        this.metrics.webhookQueueDepth.reset();
        this.readAt = 0;
        return;
      }
      if (now - this.readAt < REFRESH_MS) return;
      // Index counts: no record is read, whatever the size of the fleet.
      const [counts, depth] = await Promise.all([this.instances.countByStatus(), this.webhooks.queueDepth()]);
      this.metrics.instances.reset();
      for (const c of counts) {
        if (c.count > 0)
          this.metrics.instances.set({ status: c.status, managed: String(c.managed) }, c.count);
      }
      this.metrics.webhookQueueDepth.set(depth);
      this.readAt = now;
    } catch (err) {
      this.logger.warn({ err }, 'Could not read shared state for /metrics; gauges keep their last values');
    }
  }

  private async holdLease(): Promise<boolean> {
    if (this.lease && (await this.store.renewLease(this.lease, LEASE_TTL_MS))) return true;
    this.lease = await this.store.acquireLease(METRICS_GAUGES_LEASE, LEASE_TTL_MS);
    return this.lease !== null;
  }
}
