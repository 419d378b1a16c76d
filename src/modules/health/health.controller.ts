import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ApiErrorResponses } from '../../common/http/api-error-responses.decorator';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorFunction,
} from '@nestjs/terminus';
import { AppError, ErrorCode } from '../../common/errors';
import { SkipThrottle } from '@nestjs/throttler';
import { MigrationService } from '../migration/migration.service';
import { NovitaHealthIndicator } from './novita.health';
import { StoreHealthIndicator } from './store.health';
import { SyncJob } from '../sync/sync.job';

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
    private readonly novita: NovitaHealthIndicator,
    private readonly sync: SyncJob,
    private readonly migration: MigrationService,
  ) {}

  /** Liveness: the process answers. No dependency is consulted, so a store outage never restarts pods. */
  @Get('live')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOkResponse({ description: 'The process is up', schema: HEALTH_RESULT })
  @ApiErrorResponses(503)
  getLiveness() {
    return this.run([]);
  }

  /** Readiness: 503 naming the failing indicator when the store is unreachable. */
  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOkResponse({ description: 'Ready: the store answers', schema: HEALTH_RESULT })
  @ApiErrorResponses(503)
  getReadiness() {
    return this.run([() => this.store.check()]);
  }

  /** Detailed health: store readiness plus Novita's circuit state (informational) and the spot-recovery block. */
  @Get()
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOkResponse({
    description: 'Store and Novita status, and the sync and migrationService blocks',
    schema: HEALTH_RESULT,
  })
  @ApiErrorResponses(503)
  async getHealth() {
    const result = await this.run([() => this.store.check(), () => this.novita.check()]);
    // Informational like Novita's state: a store hiccup reading them already shows in the store indicator.
    return {
      ...result,
      sync: await this.sync.health().catch(() => null),
      migrationService: await this.migration.healthBlock().catch(() => null),
    };
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
