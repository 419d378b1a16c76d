import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOperation,
  ApiOkResponse,
  ApiProduces,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { MetricsService } from '../../infra/metrics/metrics.service';
import {
  ErrorResponse,
  JobStatusResponse,
  MetricsResponse,
  MetricsSummaryResponse,
} from './dto/operations.responses';
import { MetricsAccessGuard } from './metrics-access.guard';
import { MetricsSummaryService } from './metrics-summary.service';

@ApiTags('metrics')
@Controller()
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly summaries: MetricsSummaryService,
  ) {}

  /**
   * This replica's metrics in the Prometheus text format. Open like the probes unless
   * METRICS_REQUIRE_KEY=true. Not rate limited: scrapers poll it.
   */
  @Get('metrics')
  @ApiOperation({
    summary: 'Prometheus metrics of this replica',
    description:
      'Text exposition format 0.0.4: HTTP, Novita calls and breaker, store round trips, background jobs, webhooks, caches, ' +
      'instances by status. Open like the probes unless METRICS_REQUIRE_KEY=true; not rate limited.',
  })
  @SkipThrottle()
  @UseGuards(MetricsAccessGuard)
  @ApiSecurity({})
  @ApiSecurity('apiKey')
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'METRICS_REQUIRE_KEY=true and no valid key' })
  async getPrometheusMetrics(@Res() reply: FastifyReply): Promise<void> {
    const body = await this.metrics.render();
    await reply
      .header('Content-Type', this.metrics.contentType)
      .header('Cache-Control', 'no-store')
      .send(body);
  }

  /** Requests, background jobs, Novita calls, webhook attempts, system and cache figures of this replica. */
  @Get('api/metrics')
  @ApiOperation({
    summary: 'Metrics of this replica as JSON',
    description:
      'Requests (total, by status code, by route, last minute), background jobs, Novita calls, webhook attempts, system and cache.',
  })
  @Header('Cache-Control', 'no-store')
  @ApiExtraModels(JobStatusResponse)
  @ApiOkResponse({ type: MetricsResponse })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'Missing or invalid API key' })
  @ApiTooManyRequestsResponse({ type: ErrorResponse, description: 'Rate limit exceeded' })
  getMetrics(): Promise<MetricsResponse> {
    return this.summaries.details();
  }

  /** The short form: requests by status code, jobs by type, system, cache hit ratio and size. */
  @Get('api/metrics/summary')
  @ApiOperation({
    summary: 'Short metrics summary of this replica',
    description:
      'Requests by status code, background jobs by type, memory/CPU/uptime, cache hit ratio and size.',
  })
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: MetricsSummaryResponse })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'Missing or invalid API key' })
  @ApiTooManyRequestsResponse({ type: ErrorResponse, description: 'Rate limit exceeded' })
  getMetricsSummary(): Promise<MetricsSummaryResponse> {
    return this.summaries.summary();
  }
}
