import { HealthBlocksModule } from '../../infra/health/health-blocks';
import { MetricsModule } from '../../infra/metrics/metrics.module';
import { Module } from '@nestjs/common';
import { NovitaModule } from '../../infra/novita/novita.module';
import { SchedulingModule } from '../../infra/scheduling/scheduling.module';
import { StoreModule } from '../../infra/store/store.module';
import { NovitaCatalogService } from '../instances/novita-catalog.service';
import { ReadinessProber } from '../instances/operations/readiness-check';
import { RecordsModule } from '../records/records.module';
import { MigrationController } from './migration.controller';
import { MigrationJob } from './migration.job';
import { MigrationRepository } from './migration.repository';
import { MigrationRunner } from './migration-runner.service';
import { MigrationService } from './migration.service';

/**
 * Spot recovery: reclaim detection, migration operations (their own schedule, advanced by their
 * own job), recreation after a failed migration, and /api/migration/*. The catalogue and the
 * readiness prober are plain providers over the Novita client, instantiated here as well.
 */
@Module({
  imports: [MetricsModule, HealthBlocksModule, StoreModule, NovitaModule, RecordsModule, SchedulingModule],
  controllers: [MigrationController],
  providers: [
    MigrationRepository,
    MigrationService,
    MigrationRunner,
    MigrationJob,
    NovitaCatalogService,
    ReadinessProber,
  ],
  exports: [MigrationService],
})
export class MigrationModule {}
