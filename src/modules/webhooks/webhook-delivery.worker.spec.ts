import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig } from '../../config/config.types';
import { MemoryStateStore } from '../../infra/store/memory-state-store';
import { DeliverySummary, WebhookDeliveryService } from './webhook-delivery.service';
import { WEBHOOK_WORKER_LEASE, WebhookDeliveryWorker } from './webhook-delivery.worker';

const summary: DeliverySummary = { due: 1, delivered: 1, retrying: 0, failed: 0, gone: 0, skipped: 0 };

/** A delivery service whose passes the test finishes by hand; any other method call fails the test. */
class ControlledDelivery {
  calls: number[] = [];
  private resolvers: ((s: DeliverySummary) => void)[] = [];
  failNext = false;

  deliverDue(now: number): Promise<DeliverySummary> {
    this.calls.push(now);
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('store down'));
    }
    return new Promise((resolve) => this.resolvers.push(resolve));
  }

  finish(): void {
    this.resolvers.shift()?.(summary);
  }
}

function setup() {
  const store = new MemoryStateStore();
  const delivery = new ControlledDelivery();
  const config = { get: () => ({ workerIntervalMs: 60_000 }) } as unknown as ConfigService<AllConfig, true>;
  const worker = new WebhookDeliveryWorker(config, store, delivery as unknown as WebhookDeliveryService);
  return { store, delivery, worker };
}

beforeAll(() => Logger.overrideLogger(false));

describe('WebhookDeliveryWorker', () => {
  it('skips a tick while its previous pass is still running', async () => {
    const { delivery, worker } = setup();
    const first = worker.tick();
    await new Promise((r) => setImmediate(r));
    await expect(worker.tick()).resolves.toBeNull();
    expect(delivery.calls).toHaveLength(1);
    delivery.finish();
    await expect(first).resolves.toEqual(summary);

    const third = worker.tick();
    await new Promise((r) => setImmediate(r));
    expect(delivery.calls).toHaveLength(2);
    delivery.finish();
    await expect(third).resolves.toEqual(summary);
  });

  it('does nothing while another replica holds the lease', async () => {
    const { store, delivery, worker } = setup();
    const other = await store.acquireLease(WEBHOOK_WORKER_LEASE, 60_000);
    expect(other).not.toBeNull();
    await expect(worker.tick()).resolves.toBeNull();
    expect(delivery.calls).toHaveLength(0);
  });

  it('catches a failed pass and runs again on the next tick', async () => {
    const { delivery, worker } = setup();
    delivery.failNext = true;
    await expect(worker.tick()).resolves.toBeNull();
    const next = worker.tick();
    await new Promise((r) => setImmediate(r));
    expect(delivery.calls).toHaveLength(2);
    delivery.finish();
    await expect(next).resolves.toEqual(summary);
  });

  it('releases the lease on shutdown so another replica can take over', async () => {
    const { store, delivery, worker } = setup();
    const pass = worker.tick();
    await new Promise((r) => setImmediate(r));
    await expect(store.acquireLease(WEBHOOK_WORKER_LEASE, 1_000)).resolves.toBeNull();
    delivery.finish();
    await pass;
    await worker.onApplicationShutdown();
    await expect(store.acquireLease(WEBHOOK_WORKER_LEASE, 1_000)).resolves.not.toBeNull();
  });
});
