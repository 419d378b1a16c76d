import { HealthBlocksModule } from '../../infra/health/health-blocks';
import { Module } from '@nestjs/common';
import { NovitaModule } from '../../infra/novita/novita.module';
import { SchedulingModule } from '../../infra/scheduling/scheduling.module';
import { RecordsModule } from '../records/records.module';
import { SyncController } from './sync.controller';
import { SyncJob } from './sync.job';
import { SyncService } from './sync.service';

/** Startup and periodic reconciliation of the store with Novita, obsolete handling and adoption. */
@Module({
  imports: [RecordsModule, NovitaModule, SchedulingModule, HealthBlocksModule],
  controllers: [SyncController],
  providers: [SyncService, SyncJob],
  exports: [SyncJob],
})
export class SyncModule {}
