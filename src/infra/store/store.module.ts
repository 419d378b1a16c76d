import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig } from '../../config/config.types';
import { StateStore } from './state-store';
import { createStateStore } from './store.factory';

/** Provides the StateStore port, bound to the adapter the configuration chose. */
@Module({
  providers: [
    {
      provide: StateStore,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AllConfig, true>): StateStore =>
        createStateStore(config.get('store', { infer: true })),
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
