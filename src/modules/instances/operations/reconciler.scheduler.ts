import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AllConfig } from '../../../config/config.types';
import { Lease, StateStore } from '../../../infra/store/state-store';
import { ReconcilerService } from './reconciler.service';

export const RECONCILER_INTERVAL_NAME = 'operations-reconciler';
const LEASE_NAME = 'operations-reconciler';

/**
 * Thin scheduler: every OPERATIONS_RECONCILE_INTERVAL_MS, if this replica holds the store lease and
 * its previous pass has finished, runs one reconcileOnce(). The interval comes from config, so it is
 * registered with SchedulerRegistry rather than a constant @Interval.
 */
@Injectable()
export class ReconcilerScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcilerScheduler.name);
  private readonly intervalMs: number;
  /** Long enough to survive a slow pass; short enough that a killed leader is replaced within seconds. */
  private readonly leaseTtlMs: number;
  private lease: Lease | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly reconciler: ReconcilerService,
    private readonly store: StateStore,
    private readonly registry: SchedulerRegistry,
    config: ConfigService<AllConfig, true>,
  ) {
    this.intervalMs = config.get('instances', { infer: true }).reconcileIntervalMs;
    this.leaseTtlMs = Math.max(5 * this.intervalMs, 5_000);
  }

  onApplicationBootstrap(): void {
    const handle = setInterval(() => void this.tick(), this.intervalMs);
    this.registry.addInterval(RECONCILER_INTERVAL_NAME, handle);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.registry.doesExist('interval', RECONCILER_INTERVAL_NAME))
      this.registry.deleteInterval(RECONCILER_INTERVAL_NAME);
    await this.inFlight;
    if (this.lease) await this.store.releaseLease(this.lease).catch(() => undefined);
    this.lease = null;
  }

  /** One scheduled run; skipped while the previous one is still going. */
  tick(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.run().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async run(): Promise<void> {
    try {
      if (!(await this.holdLease())) return;
      const summary = await this.reconciler.reconcileOnce(Date.now());
      if (summary.checked > 0) this.logger.debug({ ...summary }, 'Reconciler pass');
    } catch (err) {
      this.logger.error({ err }, 'Reconciler pass failed');
    }
  }

  private async holdLease(): Promise<boolean> {
    if (this.lease && (await this.store.renewLease(this.lease, this.leaseTtlMs))) return true;
    this.lease = await this.store.acquireLease(LEASE_NAME, this.leaseTtlMs);
    return this.lease !== null;
  }
}
