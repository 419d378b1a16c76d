import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ErrorBody {
  @ApiProperty({ example: 'VALIDATION_ERROR' })
  code: string;
  @ApiProperty()
  message: string;
  @ApiProperty()
  requestId: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  details?: Record<string, unknown>;
}

/** The error envelope every failure uses. */
export class ErrorResponse {
  @ApiProperty({ type: ErrorBody })
  error: ErrorBody;
}

export class MemoryStats {
  @ApiProperty({ description: 'Resident set size, MB' })
  rssMB: number;
  @ApiProperty()
  heapUsedMB: number;
  @ApiProperty()
  heapTotalMB: number;
  @ApiProperty()
  externalMB: number;
}

export class CpuStats {
  @ApiProperty({ description: 'Share of one core this process used since the previous reading, percent' })
  usagePercent: number;
  @ApiProperty({ type: [Number], description: 'Host load average over 1, 5 and 15 minutes' })
  loadAverage: number[];
}

export class SystemStatsResponse {
  @ApiProperty({ type: MemoryStats })
  memory: MemoryStats;
  @ApiProperty({ type: CpuStats })
  cpu: CpuStats;
  @ApiProperty()
  uptimeSeconds: number;
}

export class RequestStats {
  /** Requests this replica answered since it started. */
  @ApiProperty()
  total: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { '200': 120, '404': 3 },
  })
  byStatusCode: Record<string, number>;
}

export class RequestDetails extends RequestStats {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'By "METHOD route-template"',
    example: { 'GET /api/instances': 40 },
  })
  byRoute: Record<string, number>;
  @ApiProperty({ description: 'Requests in the last 60 seconds' })
  requestsPerMinute: number;
  @ApiProperty({ description: 'Mean response time over the last 60 seconds, ms' })
  averageResponseTimeMs: number;
  @ApiProperty({ description: 'Share of 5xx responses over the last 60 seconds (0-1)' })
  errorRate: number;
}

export class JobStatusResponse {
  @ApiProperty()
  passes: number;
  @ApiProperty()
  failures: number;
  @ApiProperty({ type: String, nullable: true })
  lastPassAt: string | null;
  @ApiProperty({ type: String, nullable: true })
  lastSuccessAt: string | null;
  @ApiProperty({ type: String, nullable: true, enum: ['success', 'failure'] })
  lastOutcome: 'success' | 'failure' | null;
  @ApiProperty({ type: Number, nullable: true })
  lastDurationMs: number | null;
  @ApiProperty({ type: String, nullable: true })
  lastError: string | null;
}

export class JobStats {
  /** Background job passes this replica ran. */
  @ApiProperty()
  processed: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { reconciler: 12 } })
  byType: Record<string, number>;
}

export class JobDetails {
  @ApiProperty()
  processed: number;
  @ApiProperty()
  failed: number;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/JobStatusResponse' } })
  byType: Record<string, JobStatusResponse>;
}

export class CacheSummary {
  @ApiProperty({ description: 'hits / (hits + misses) over every cache (0-1)' })
  hitRatio: number;
  @ApiProperty({ description: 'Approximate bytes held by every cache' })
  totalSize: number;
  @ApiProperty()
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
    additionalProperties: { type: 'number' },
    example: { delivered: 10, retrying: 1 },
  })
  attemptsByOutcome: Record<string, number>;
}

export class NovitaCallStats {
  @ApiProperty()
  total: number;
  @ApiProperty({ description: 'Calls that ended in an error, after retries' })
  errors: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
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
