import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { loadConfig } from '../../../config/config.loader';
import { MemoryStateStore } from '../../../infra/store/memory-state-store';
import { ReconcilerScheduler } from './reconciler.scheduler';
import { ReconcilerService } from './reconciler.service';

class CountingReconciler {
  calls = 0;
  gate: Promise<void> = Promise.resolve();
  async reconcileOnce() {
    this.calls++;
    await this.gate;
    return { checked: 0, advanced: 0, succeeded: 0, failed: 0, errors: 0 };
  }
}

function scheduler(store: MemoryStateStore, reconciler: CountingReconciler) {
  const config = new ConfigService(
    loadConfig({ NOVITA_API_KEY: 'x', OPERATIONS_RECONCILE_INTERVAL_MS: '200' }) as never,
  );
  return new ReconcilerScheduler(
    reconciler as unknown as ReconcilerService,
    store,
    new SchedulerRegistry(),
    config as never,
  );
}

describe('ReconcilerScheduler', () => {
  it('skips a tick while the previous pass is still running', async () => {
    const store = new MemoryStateStore();
    const reconciler = new CountingReconciler();
    let release!: () => void;
    reconciler.gate = new Promise((r) => (release = r));
    const s = scheduler(store, reconciler);
    const first = s.tick();
    await new Promise((r) => setTimeout(r, 10));
    await Promise.race([s.tick(), new Promise((r) => setTimeout(r, 10))]);
    expect(reconciler.calls).toBe(1);
    release();
    await first;
    await s.tick();
    expect(reconciler.calls).toBe(2);
  });

  it('runs on one replica only: the lease holder', async () => {
    const store = new MemoryStateStore();
    const a = new CountingReconciler();
    const b = new CountingReconciler();
    const sa = scheduler(store, a);
    const sb = scheduler(store, b);
    await sa.tick();
    await sb.tick();
    await sa.tick();
    expect(a.calls).toBe(2);
    expect(b.calls).toBe(0);
    // When the leader shuts down it releases the lease and the other replica takes over.
    await sa.onApplicationShutdown();
    await sb.tick();
    expect(b.calls).toBe(1);
  });
});
