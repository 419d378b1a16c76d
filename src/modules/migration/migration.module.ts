import { HealthBlocksModule } from '../../infra/health/health-blocks';
import { MetricsModule } from '../../infra/metrics/metrics.module';
import { Module } from '@nestjs/common';
import { NovitaModule } from '../../infra/novita/novita.module';
import { SchedulingModule } from '../../infra/scheduling/scheduling.module';
import { StoreModule } from '../../infra/store/store.module';
import { InstancesModule } from '../instances/instances.module';
import { RecordsModule } from '../records/records.module';
import { MigrationController } from './migration.controller';
import { MigrationJob } from './migration.job';
import { MigrationRepository } from './migration.repository';
import { MigrationReadiness } from './migration-readiness.service';
import { MigrationRecreation } from './migration-recreation.service';
import { MigrationRunner } from './migration-runner.service';
import { MigrationSteps } from './migration-steps';
import { MigrationOpener } from './migration-opener';
import { MigrationService } from './migration.service';
import { MigrationViews } from './migration-views';

/**
 * Spot recovery: reclaim detection, migration operations (their own schedule, advanced by their
 * own job), recreation after a failed migration, and /api/migration/*. The catalogue (one cache,
 * shared with creates, so clearing it clears it for both) and the readiness prober come from InstancesModule.
 */
@Module({
  imports: [
    MetricsModule,
    HealthBlocksModule,
    StoreModule,
    NovitaModule,
    RecordsModule,
    SchedulingModule,
    InstancesModule,
  ],
  controllers: [MigrationController],
  providers: [
    MigrationRepository,
    MigrationOpener,
    MigrationService,
    MigrationViews,
    MigrationSteps,
    MigrationRecreation,
    MigrationReadiness,
    MigrationRunner,
    MigrationJob,
  ],
  exports: [MigrationService],
})
export class MigrationModule {}
