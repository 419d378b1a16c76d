import { HttpModule, HttpService } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig } from '../../config/config.types';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { HttpNovitaClient } from './http-novita-client';
import { NovitaClient } from './novita-client';
import { NovitaListing } from './novita-listing';

/**
 * Binds the NovitaClient port to HttpNovitaClient. Relies on the global ConfigModule (app.module.ts).
 * HttpModule.register gives this module its own axios instance, so interceptors added elsewhere to
 * the shared default instance never touch Novita traffic.
 */
@Module({
  imports: [HttpModule.register({}), MetricsModule],
  providers: [
    {
      provide: NovitaClient,
      inject: [HttpService, ConfigService, MetricsService],
      useFactory: (http: HttpService, config: ConfigService<AllConfig, true>, metrics: MetricsService) => {
        const client = new HttpNovitaClient(http, config.get('novita', { infer: true }), {
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
