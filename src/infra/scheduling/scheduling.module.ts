import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { StoreModule } from '../store/store.module';
import { BackgroundLoop } from './background-loop.service';

/** The one background loop; feature modules import this and register their jobs on init. */
@Module({
  imports: [StoreModule, MetricsModule],
  providers: [BackgroundLoop],
  exports: [BackgroundLoop],
})
export class SchedulingModule {}
