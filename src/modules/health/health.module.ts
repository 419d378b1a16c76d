import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthBlocksModule } from '../../infra/health/health-blocks';
import { LifecycleModule } from '../../infra/lifecycle/shutdown-state';
import { MetricsModule } from '../../infra/metrics/metrics.module';
import { NovitaModule } from '../../infra/novita/novita.module';
import { StoreModule } from '../../infra/store/store.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { DetailedHealthService } from './detailed-health.service';
import { HealthController } from './health.controller';
import { StoreHealthIndicator } from './store.health';

/** Probes and the detailed report. Modules add their own blocks through HealthBlocksModule. */
@Module({
  imports: [
    TerminusModule.forRoot({ errorLogStyle: 'json', logger: false }),
    StoreModule,
    NovitaModule,
    MetricsModule,
    WebhooksModule,
    LifecycleModule,
    HealthBlocksModule,
  ],
  controllers: [HealthController],
  providers: [StoreHealthIndicator, DetailedHealthService],
})
export class HealthModule {}
