import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig } from '../../config/config.types';
import { instrumentStore } from '../metrics/instrument-store';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { StateStore } from './state-store';
import { createStateStore } from './store.factory';

/** Provides the StateStore port, bound to the adapter the configuration chose and timed for /metrics. */
@Module({
  imports: [MetricsModule],
  providers: [
    {
      provide: StateStore,
      inject: [ConfigService, MetricsService],
      useFactory: (config: ConfigService<AllConfig, true>, metrics: MetricsService): StateStore =>
        instrumentStore(createStateStore(config.get('store', { infer: true })), metrics),
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
