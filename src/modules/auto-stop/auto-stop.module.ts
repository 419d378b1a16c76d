import { MetricsModule } from '../../infra/metrics/metrics.module';
import { Module } from '@nestjs/common';
import { NovitaModule } from '../../infra/novita/novita.module';
import { SchedulingModule } from '../../infra/scheduling/scheduling.module';
import { StoreModule } from '../../infra/store/store.module';
import { InstancesModule } from '../instances/instances.module';
import { AutoStopConsistencyCheck } from './auto-stop.consistency';
import { AutoStopController } from './auto-stop.controller';
import { AutoStopDeleteAfterStop } from './auto-stop.delete-after-stop';
import { AutoStopIdleAction } from './auto-stop.idle-action';
import { AutoStopJob } from './auto-stop.job';
import { AutoStopService } from './auto-stop.service';
import { AutoStopSweepSteps } from './auto-stop.sweep-steps';
import { AutoStopSweeper } from './auto-stop.sweeper';
import { AutoStopWarnings } from './auto-stop.warnings';

/** Idle deadlines swept within seconds, per-instance policies, warnings, snooze, stats and trigger. */
@Module({
  imports: [MetricsModule, StoreModule, NovitaModule, SchedulingModule, InstancesModule],
  controllers: [AutoStopController],
  providers: [
    AutoStopSweepSteps,
    AutoStopWarnings,
    AutoStopIdleAction,
    AutoStopDeleteAfterStop,
    AutoStopSweeper,
    AutoStopConsistencyCheck,
    AutoStopJob,
    AutoStopService,
  ],
  exports: [AutoStopService],
})
export class AutoStopModule {}
