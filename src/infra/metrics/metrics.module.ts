import { Module } from '@nestjs/common';
import { CacheRegistry } from './cache-registry';
import { MetricsService } from './metrics.service';

/** The process-wide metrics registry and cache registry; a plain module, so every importer shares one instance. */
@Module({
  providers: [CacheRegistry, MetricsService],
  exports: [CacheRegistry, MetricsService],
})
export class MetricsModule {}
