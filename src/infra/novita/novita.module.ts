import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig } from '../../config/config.types';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { HttpNovitaClient } from './http-novita-client';
import { NovitaClient } from './novita-client';
import { NovitaListing } from './novita-listing';

/** Binds the NovitaClient port to HttpNovitaClient. Relies on the global ConfigModule (app.module.ts). */
@Module({
  imports: [MetricsModule],
  providers: [
    {
      provide: NovitaClient,
      inject: [ConfigService, MetricsService],
      useFactory: (config: ConfigService<AllConfig, true>, metrics: MetricsService) => {
        const client = new HttpNovitaClient(config.get('novita', { infer: true }), {
          observer: metrics,
        });
        metrics.watchBreaker(() => client.health().circuit);
        return client;
      },
    },
    NovitaListing,
  ],
  exports: [NovitaClient, NovitaListing],
})
export class NovitaModule {}
