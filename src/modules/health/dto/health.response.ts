import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiDecimal, ApiInt } from '../../../common/http/api-number.decorators';
import { JobStatusResponse, SystemStatsResponse } from '../../metrics/dto/operations.responses';

export class NovitaServiceHealth {
  @ApiProperty({ enum: ['up', 'degraded', 'down'], description: 'down while the circuit is open' })
  status: 'up' | 'degraded' | 'down';
  @ApiProperty({ enum: ['closed', 'open', 'half-open', 'isolated'] })
  circuit: string;
  @ApiProperty({ type: String, nullable: true })
  lastSuccessAt: string | null;
  @ApiProperty({ type: String, nullable: true })
  lastError: string | null;
}

export class StoreServiceHealth {
  @ApiProperty({ enum: ['up', 'down'] })
  status: 'up' | 'down';
  @ApiProperty({ enum: ['memory', 'redis', 'upstash'] })
  adapter: string;
  @ApiInt({ description: 'Round trip of a ping, ms', required: false })
  latencyMs?: number;
  @ApiPropertyOptional()
  message?: string;
}

export class WebhookQueueHealth {
  @ApiProperty({ enum: ['up', 'unknown'], description: 'unknown when the store could not be read' })
  status: 'up' | 'unknown';
  @ApiInt({ nullable: true, description: 'Deliveries waiting for an attempt' })
  depth: number | null;
}

export class CacheHealth {
  @ApiProperty({ enum: ['up', 'unknown'], description: 'unknown when the store could not be read' })
  status: 'up' | 'unknown';
  @ApiInt({ nullable: true, description: 'In-process caches of Novita data' })
  caches: number | null;
  @ApiDecimal({ nullable: true })
  hitRatio: number | null;
  @ApiInt({ nullable: true, description: 'Approximate bytes held' })
  totalSize: number | null;
  @ApiInt({ nullable: true })
  totalEntries: number | null;
}

export class JobHealth extends JobStatusResponse {
  @ApiProperty({ enum: ['up', 'failing'], description: 'failing when the last pass on this replica failed' })
  status: 'up' | 'failing';
}

export class ServicesHealth {
  @ApiProperty({ type: NovitaServiceHealth })
  novitaApi: NovitaServiceHealth;
  @ApiProperty({ type: StoreServiceHealth })
  store: StoreServiceHealth;
  @ApiProperty({ type: WebhookQueueHealth })
  webhookQueue: WebhookQueueHealth;
  @ApiProperty({ type: CacheHealth })
  cache: CacheHealth;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/JobHealth' },
    description: 'Background jobs this replica has run, by name',
  })
  jobs: Record<string, JobHealth>;
}

export class PerformanceHealth {
  @ApiInt({ description: 'Requests this replica answered in the last 60 seconds' })
  requestsPerMinute: number;
  @ApiDecimal({ description: 'Mean response time over the last 60 seconds, ms' })
  averageResponseTimeMs: number;
  @ApiDecimal({ description: 'Share of 5xx responses over the last 60 seconds (0-1)' })
  errorRate: number;
}

/**
 * The detailed report. Feature modules add top-level blocks of their own (for example `sync` and
 * `migrationService`) next to these fields.
 */
export class DetailedHealthResponse {
  @ApiProperty({
    enum: ['healthy', 'degraded', 'unhealthy', 'shutting_down'],
    description: 'unhealthy (503) when the store is down; degraded when Novita or a job is failing',
  })
  status: 'healthy' | 'degraded' | 'unhealthy' | 'shutting_down';
  @ApiProperty()
  timestamp: string;
  @ApiInt()
  uptimeSeconds: number;
  @ApiProperty({ type: ServicesHealth })
  services: ServicesHealth;
  @ApiProperty({ type: PerformanceHealth })
  performance: PerformanceHealth;
  @ApiProperty({ type: SystemStatsResponse })
  system: SystemStatsResponse;
}
