import { ApiProperty } from '@nestjs/swagger';
import { ApiDecimal, ApiInt } from '../../../common/http/api-number.decorators';

export class MemoryStats {
  @ApiDecimal({ description: 'Resident set size, MB' })
  rssMB: number;
  @ApiDecimal()
  heapUsedMB: number;
  @ApiDecimal()
  heapTotalMB: number;
  @ApiDecimal()
  externalMB: number;
}

export class CpuStats {
  @ApiDecimal({ description: 'Share of one core this process used since the previous reading, percent' })
  usagePercent: number;
  @ApiProperty({
    type: 'array',
    items: { type: 'number', format: 'double' },
    description: 'Host load average over 1, 5 and 15 minutes',
  })
  loadAverage: number[];
}

export class SystemStatsResponse {
  @ApiProperty({ type: MemoryStats })
  memory: MemoryStats;
  @ApiProperty({ type: CpuStats })
  cpu: CpuStats;
  @ApiInt()
  uptimeSeconds: number;
}

export class RequestStats {
  /** Requests this replica answered since it started. */
  @ApiInt()
  total: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { '200': 120, '404': 3 },
  })
  byStatusCode: Record<string, number>;
}

export class RequestDetails extends RequestStats {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'By "METHOD route-template"',
    example: { 'GET /api/instances': 40 },
  })
  byRoute: Record<string, number>;
  @ApiInt({ description: 'Requests in the last 60 seconds' })
  requestsPerMinute: number;
  @ApiDecimal({ description: 'Mean response time over the last 60 seconds, ms' })
  averageResponseTimeMs: number;
  @ApiDecimal({ description: 'Share of 5xx responses over the last 60 seconds (0-1)' })
  errorRate: number;
}

export class JobStatusResponse {
  @ApiInt()
  passes: number;
  @ApiInt()
  failures: number;
  @ApiProperty({ type: String, nullable: true })
  lastPassAt: string | null;
  @ApiProperty({ type: String, nullable: true })
  lastSuccessAt: string | null;
  @ApiProperty({ type: String, nullable: true, enum: ['success', 'failure'] })
  lastOutcome: 'success' | 'failure' | null;
  @ApiInt({ nullable: true })
  lastDurationMs: number | null;
  @ApiProperty({ type: String, nullable: true })
  lastError: string | null;
}

export class JobStats {
  /** Background job passes this replica ran. */
  @ApiInt()
  processed: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { reconciler: 12 } })
  byType: Record<string, number>;
}

export class JobDetails {
  @ApiInt()
  processed: number;
  @ApiInt()
  failed: number;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/JobStatusResponse' } })
  byType: Record<string, JobStatusResponse>;
}

export class CacheSummary {
  @ApiDecimal({ description: 'hits / (hits + misses) over every cache (0-1)' })
  hitRatio: number;
  @ApiInt({ description: 'Approximate bytes held by every cache' })
  totalSize: number;
  @ApiInt()
  totalEntries: number;
}

export class MetricsSummaryResponse {
  @ApiProperty()
  timestamp: string;
  @ApiProperty({ type: RequestStats })
  requests: RequestStats;
  @ApiProperty({ type: JobStats })
  jobs: JobStats;
  @ApiProperty({ type: SystemStatsResponse })
  system: SystemStatsResponse;
  @ApiProperty({ type: CacheSummary })
  cache: CacheSummary;
}

export class WebhookStats {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { delivered: 10, retrying: 1 },
  })
  attemptsByOutcome: Record<string, number>;
}

export class NovitaCallStats {
  @ApiInt()
  total: number;
  @ApiInt({ description: 'Calls that ended in an error, after retries' })
  errors: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { ok: 40, upstream_timeout: 1 },
  })
  byResult: Record<string, number>;
}

export class MetricsResponse {
  @ApiProperty()
  timestamp: string;
  @ApiProperty({ type: RequestDetails })
  requests: RequestDetails;
  @ApiProperty({ type: JobDetails })
  jobs: JobDetails;
  @ApiProperty({ type: NovitaCallStats })
  novita: NovitaCallStats;
  @ApiProperty({ type: WebhookStats })
  webhooks: WebhookStats;
  @ApiProperty({ type: SystemStatsResponse })
  system: SystemStatsResponse;
  @ApiProperty({ type: CacheSummary })
  cache: CacheSummary;
}
