import { Module } from '@nestjs/common';
import { MetricsModule } from '../../infra/metrics/metrics.module';
import { NovitaModule } from '../../infra/novita/novita.module';
import { SchedulingModule } from '../../infra/scheduling/scheduling.module';
import { StoreModule } from '../../infra/store/store.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { CreateLookup } from './create-lookup';
import { IdempotencyService } from './idempotency.service';
import { InstanceActionsController } from './instance-actions.controller';
import { InstanceCreateService } from './instance-create.service';
import { InstanceLifecycleService } from './instance-lifecycle.service';
import { InstanceQueryService } from './instance-query.service';
import { InstanceRefresher } from './instance-refresher';
import { InstanceResolver } from './instance-resolver';
import { InstanceUsageService } from './instance-usage.service';
import { InstancesController } from './instances.controller';
import { NovitaCatalogService } from './novita-catalog.service';
import { RecordsModule } from '../records/records.module';
import { SyncModule } from '../sync/sync.module';
import { ReadinessProber } from './operations/readiness-check';
import { IntentSettler } from './operations/intent-settler';
import { ReconcilerJob } from './operations/reconciler.job';
import { ReconcilerService } from './operations/reconciler.service';

/** The instance lifecycle API, its durable operations and the reconciler that advances them. */
@Module({
  imports: [
    StoreModule,
    NovitaModule,
    WebhooksModule,
    RecordsModule,
    SchedulingModule,
    SyncModule,
    MetricsModule,
  ],
  controllers: [InstancesController, InstanceActionsController],
  providers: [
    InstanceResolver,
    CreateLookup,
    NovitaCatalogService,
    IdempotencyService,
    InstanceCreateService,
    InstanceLifecycleService,
    InstanceQueryService,
    InstanceRefresher,
    InstanceUsageService,
    ReadinessProber,
    IntentSettler,
    ReconcilerService,
    ReconcilerJob,
  ],
  // For auto-stop, sync and migration: the records, and stop/start with events and operations.
  exports: [
    RecordsModule,
    InstanceLifecycleService,
    ReconcilerService,
    NovitaCatalogService,
    ReadinessProber,
  ],
})
export class InstancesModule {}
