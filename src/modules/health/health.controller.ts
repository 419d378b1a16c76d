import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ApiErrorResponses } from '../../common/http/api-error-responses.decorator';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorFunction,
} from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { AppError, ErrorCode } from '../../common/errors';
import { ShutdownState } from '../../infra/lifecycle/shutdown-state';
import { DetailedHealthService } from './detailed-health.service';
import { DetailedHealthResponse, JobHealth } from './dto/health.response';
import { StoreHealthIndicator } from './store.health';

/** Terminus' result, as /health/* returns it when healthy. */
const HEALTH_RESULT: SchemaObject = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok'] },
    info: { type: 'object', additionalProperties: true },
    error: { type: 'object', additionalProperties: true },
    details: { type: 'object', additionalProperties: true },
    sync: { type: 'object', additionalProperties: true, description: 'Sync status (detailed /health only)' },
    migrationService: {
      type: 'object',
      additionalProperties: true,
      nullable: true,
      description: 'Spot recovery status (detailed /health only)',
    },
  },
  required: ['status'],
};

@ApiTags('health')
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly store: StoreHealthIndicator,
    private readonly detailed: DetailedHealthService,
    private readonly shutdown: ShutdownState,
  ) {}

  /** Liveness: the process answers. No dependency is consulted, so a store outage never restarts pods. */
  @Get('live')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOkResponse({ description: 'The process is up', schema: HEALTH_RESULT })
  @ApiErrorResponses(503)
  getLiveness(): HealthCheckResult {
    // Terminus with no indicators always answers this; building it here keeps the probe cheap.
    return { status: 'ok', info: {}, error: {}, details: {} };
  }

  /**
   * Readiness: 503 naming the failing indicator when the store is unreachable, and 503 SHUTTING_DOWN
   * from the moment SIGTERM arrives, so the load balancer drains this replica before it stops.
   */
  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOkResponse({ description: 'Ready: the store answers', schema: HEALTH_RESULT })
  @ApiErrorResponses(503)
  getReadiness() {
    if (this.shutdown.draining) {
      throw new AppError(ErrorCode.SHUTTING_DOWN, 'Shutting down: not taking new traffic', {
        since: this.shutdown.drainingSince?.toISOString(),
      });
    }
    return this.run([() => this.store.check()]);
  }

  /**
   * Detailed health: Novita (informational), the store, the webhook queue, each background job,
   * recent performance and system figures, plus blocks feature modules contribute.
   */
  @Get()
  @ApiOperation({
    summary: 'Detailed health',
    description:
      'Novita (informational), the store, the webhook queue, caches, background jobs, performance over the last minute, ' +
      'memory and CPU, plus blocks contributed by feature modules (such as sync). 503 when the store is down or while shutting down.',
  })
  @ApiExtraModels(JobHealth)
  @ApiOkResponse({ type: DetailedHealthResponse, description: 'healthy or degraded' })
  @ApiServiceUnavailableResponse({
    type: DetailedHealthResponse,
    description: 'unhealthy (store down) or shutting down; same body',
  })
  async getHealth(@Res() reply: FastifyReply): Promise<void> {
    const report = await this.detailed.report();
    const ok = report.status === 'healthy' || report.status === 'degraded';
    await reply
      .status(ok ? 200 : 503)
      .send(report);
  }

  /** Terminus reports a failure as a 503; render it in the error envelope, naming each failing indicator. */
  private async run(checks: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.health.check(checks);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as HealthCheckResult;
      const failing = Object.keys(result.error ?? {});
      throw new AppError(ErrorCode.STORE_UNAVAILABLE, `Not ready: ${failing.join(', ')} down`, { ...result });
    }
  }
}
