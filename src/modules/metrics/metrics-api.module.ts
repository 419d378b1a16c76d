import { Module } from '@nestjs/common';
import { MetricsModule } from '../../infra/metrics/metrics.module';
import { StoreModule } from '../../infra/store/store.module';
import { InstancesModule } from '../instances/instances.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { CacheController } from './cache.controller';
import { MetricsAccessGuard } from './metrics-access.guard';
import { MetricsController } from './metrics.controller';
import { MetricsSummaryService } from './metrics-summary.service';
import { SharedStateGauges } from './shared-state.gauges';

/** /metrics, /api/metrics, /api/metrics/summary and /api/cache/*. */
@Module({
  imports: [MetricsModule, StoreModule, InstancesModule, WebhooksModule],
  controllers: [MetricsController, CacheController],
  providers: [MetricsSummaryService, MetricsAccessGuard, SharedStateGauges],
  exports: [MetricsSummaryService],
})
export class MetricsApiModule {}
