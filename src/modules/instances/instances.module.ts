import { Module } from '@nestjs/common';
import { MetricsModule } from '../../infra/metrics/metrics.module';
import { NovitaModule } from '../../infra/novita/novita.module';
import { StoreModule } from '../../infra/store/store.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { IdempotencyService } from './idempotency.service';
import { InstanceActionsController } from './instance-actions.controller';
import { InstanceCreateService } from './instance-create.service';
import { InstanceEvents } from './instance-events';
import { InstanceLifecycleService } from './instance-lifecycle.service';
import { InstanceQueryService } from './instance-query.service';
import { InstanceResolver } from './instance-resolver';
import { InstanceUsageService } from './instance-usage.service';
import { InstanceRepository } from './instance.repository';
import { InstancesController } from './instances.controller';
import { NovitaCatalogService } from './novita-catalog.service';
import { OperationRepository } from './operations/operation.repository';
import { ReadinessProber } from './operations/readiness-check';
import { ReconcilerScheduler } from './operations/reconciler.scheduler';
import { ReconcilerService } from './operations/reconciler.service';

/** The instance lifecycle API, its durable operations and the reconciler that advances them. */
@Module({
  imports: [StoreModule, NovitaModule, WebhooksModule, MetricsModule],
  controllers: [InstancesController, InstanceActionsController],
  providers: [
    InstanceRepository,
    OperationRepository,
    InstanceResolver,
    InstanceEvents,
    NovitaCatalogService,
    IdempotencyService,
    InstanceCreateService,
    InstanceLifecycleService,
    InstanceQueryService,
    InstanceUsageService,
    ReadinessProber,
    ReconcilerService,
    ReconcilerScheduler,
  ],
  // For auto-stop, sync and migration: the records, and stop/start with events and operations.
  exports: [InstanceRepository, InstanceLifecycleService, OperationRepository, ReconcilerService],
})
export class InstancesModule {}
