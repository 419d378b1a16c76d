import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig } from '../../config/config.types';
import { CacheRegistry } from '../metrics/cache-registry';
import { instrumentStore } from '../metrics/instrument-store';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { RedisStateStore } from './redis-state-store';
import { StateStore } from './state-store';
import { createStateStore } from './store.factory';

export const STORE_READS_CACHE = 'store-reads';

export function registerReadCache(store: RedisStateStore, caches: CacheRegistry): void {
  const cache = store.readCache();
  caches.register({
    name: STORE_READS_CACHE,
    description:
      "Store values read for answers (records, Novita-id index entries, sync marks, record versions), held in this process and dropped by Redis' invalidation when any replica changes them",
    entries: () => cache.stats().entries,
    sizeBytes: () => cache.sizeBytes(),
    clear: () => cache.clear(),
    lookups: () => cache.stats(),
  });
}

/** Provides the StateStore port, bound to the adapter the configuration chose and timed for /metrics. */
@Module({
  imports: [MetricsModule],
  providers: [
    {
      provide: StateStore,
      inject: [ConfigService, MetricsService, CacheRegistry],
      useFactory: (
        config: ConfigService<AllConfig, true>,
        metrics: MetricsService,
        caches: CacheRegistry,
      ): StateStore => {
        const store = createStateStore(config.get('store', { infer: true }));
        if (store instanceof RedisStateStore) registerReadCache(store, caches);
        return instrumentStore(store, metrics);
      },
    },
  ],
  exports: [StateStore],
})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(StateStore) private readonly store: StateStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
