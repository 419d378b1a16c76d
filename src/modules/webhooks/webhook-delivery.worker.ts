import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import { AllConfig } from '../../config/config.types';
import { Lease, StateStore } from '../../infra/store/state-store';
import { DeliverySummary, WebhookDeliveryService } from './webhook-delivery.service';

export const WEBHOOK_WORKER_LEASE = 'webhooks:worker';
/** Long enough to survive a few missed ticks; renewed every tick, so a dead holder is replaced within this. */
const MIN_LEASE_TTL_MS = 15_000;

/**
 * Thin scheduler: every workerIntervalMs, if this replica holds the worker lease and its previous
 * pass has ended, runs one delivery pass. All delivery logic lives in WebhookDeliveryService.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);
  private readonly intervalMs: number;
  private readonly leaseTtlMs: number;
  private timer: NodeJS.Timeout | null = null;
  private lease: Lease | null = null;
  private running: Promise<DeliverySummary | null> | null = null;

  constructor(
    configService: ConfigService<AllConfig, true>,
    private readonly store: StateStore,
    private readonly delivery: WebhookDeliveryService,
  ) {
    this.intervalMs = configService.get('webhooks', { infer: true }).workerIntervalMs;
    this.leaseTtlMs = Math.max(MIN_LEASE_TTL_MS, this.intervalMs * 5);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    // The timer alone must not keep a process alive (tests, CLI tools).
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
    if (this.lease) await this.store.releaseLease(this.lease).catch(() => false);
    this.lease = null;
  }

  /** One scheduler tick; returns null when skipped (pass in flight, or another replica holds the lease). */
  tick(): Promise<DeliverySummary | null> {
    if (this.running) return Promise.resolve(null);
    this.running = this.runPass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runPass(): Promise<DeliverySummary | null> {
    const runId = randomUUID();
    try {
      if (!(await this.holdLease())) return null;
      const summary = await this.delivery.deliverDue(Date.now());
      if (summary.due > 0) this.logger.log({ runId, ...summary }, 'Webhook delivery pass');
      return summary;
    } catch (err) {
      // The next tick is the retry.
      this.logger.error({ runId, err }, 'Webhook delivery pass failed');
      return null;
    }
  }

  private async holdLease(): Promise<boolean> {
    if (this.lease && (await this.store.renewLease(this.lease, this.leaseTtlMs))) return true;
    this.lease = await this.store.acquireLease(WEBHOOK_WORKER_LEASE, this.leaseTtlMs);
    return this.lease !== null;
  }
}
