import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { NovitaModule } from '../../infra/novita/novita.module';
import { StoreModule } from '../../infra/store/store.module';
import { SyncModule } from '../sync/sync.module';
import { MigrationModule } from '../migration/migration.module';
import { HealthController } from './health.controller';
import { NovitaHealthIndicator } from './novita.health';
import { StoreHealthIndicator } from './store.health';

@Module({
  imports: [
    TerminusModule.forRoot({ errorLogStyle: 'json', logger: false }),
    StoreModule,
    NovitaModule,
    SyncModule,
    MigrationModule,
  ],
  controllers: [HealthController],
  providers: [StoreHealthIndicator, NovitaHealthIndicator],
})
export class HealthModule {}
