import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { ApiErrorResponses } from '../../common/http/api-error-responses.decorator';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { JobStatusResponse, MetricsResponse, MetricsSummaryResponse } from './dto/operations.responses';
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
      'instances by status. Open like the probes by default (documented without security); with METRICS_REQUIRE_KEY=true ' +
      'it asks for an API key like /api (X-API-Key or Authorization: Bearer) and answers 401 without one. Not rate limited.',
  })
  @SkipThrottle()
  @UseGuards(MetricsAccessGuard)
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  @ApiErrorResponses(401)
  async getPrometheusMetrics(@Res() reply: FastifyReply): Promise<void> {
    const body = await this.metrics.render();
    await reply.header('Content-Type', this.metrics.contentType).send(body);
  }

  /** Requests, background jobs, Novita calls, webhook attempts, system and cache figures of this replica. */
  @Get('api/metrics')
  @ApiOperation({
    summary: 'Metrics of this replica as JSON',
    description:
      'Requests (total, by status code, by route, last minute), background jobs, Novita calls, webhook attempts, system and cache.',
  })
  @ApiExtraModels(JobStatusResponse)
  @ApiOkResponse({ type: MetricsResponse })
  @ApiErrorResponses(400, 401, 429, 503)
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
  @ApiOkResponse({ type: MetricsSummaryResponse })
  @ApiErrorResponses(400, 401, 429, 503)
  getMetricsSummary(): Promise<MetricsSummaryResponse> {
    return this.summaries.summary();
  }
}
