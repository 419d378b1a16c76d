import { Module } from '@nestjs/common';
import { MetricsModule } from '../../infra/metrics/metrics.module';
import { SchedulingModule } from '../../infra/scheduling/scheduling.module';
import { StoreModule } from '../../infra/store/store.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { IdleDeadlines } from './idle-deadlines';
import { InstanceEvents } from './instance-events';
import { InstanceIndexJob } from './instance-index.job';
import { InstancePages } from './instance-pages';
import { InstanceRepository } from './instance.repository';
import { SyncMarks } from './sync-marks';
import { OperationRepository } from './operation.repository';

/**
 * The instance-records core shared by instances, sync, auto-stop and migration: the instance
 * repository and its indexes (kept whole by InstanceIndexJob, read page by page through InstancePages), operation (intent) records, observation of Novita state, status
 * mapping and instance events. Feature modules import this instead of reaching into each other.
 */
@Module({
  imports: [StoreModule, WebhooksModule, MetricsModule, SchedulingModule],
  providers: [
    InstanceRepository,
    InstancePages,
    SyncMarks,
    OperationRepository,
    InstanceEvents,
    IdleDeadlines,
    InstanceIndexJob,
  ],
  exports: [InstanceRepository, InstancePages, SyncMarks, OperationRepository, InstanceEvents, IdleDeadlines],
})
export class RecordsModule {}
