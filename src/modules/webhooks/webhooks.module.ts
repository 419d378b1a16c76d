import { Module } from '@nestjs/common';
import { SchedulingModule } from '../../infra/scheduling/scheduling.module';
import { MetricsModule } from '../../infra/metrics/metrics.module';
import { StoreModule } from '../../infra/store/store.module';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { WebhookEmitter } from './webhook-emitter';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Outbound webhooks: the WebhookEmitter port, the outbox, its delivery worker and the deliveries API. */
@Module({
  imports: [StoreModule, SchedulingModule, MetricsModule],
  controllers: [WebhooksController],
  providers: [
    WebhookDeliveryRepository,
    WebhookDeliveryService,
    WebhookDeliveryWorker,
    WebhooksService,
    { provide: WebhookEmitter, useExisting: WebhooksService },
  ],
  exports: [WebhookEmitter, WebhooksService, WebhookDeliveryRepository],
})
export class WebhooksModule {}
