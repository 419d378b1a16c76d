import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
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

@ApiTags('health')
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly store: StoreHealthIndicator,
    private readonly novita: NovitaHealthIndicator,
    private readonly migration: MigrationService,
  ) {}

  /** Liveness: the process answers. No dependency is consulted, so a store outage never restarts pods. */
  @Get('live')
  @HealthCheck()
  getLiveness() {
    return this.run([]);
  }

  /** Readiness: 503 naming the failing indicator when the store is unreachable. */
  @Get('ready')
  @HealthCheck()
  getReadiness() {
    return this.run([() => this.store.check()]);
  }

  /** Detailed health: store readiness plus Novita's circuit state (informational) and the spot-recovery block. */
  @Get()
  @HealthCheck()
  async getHealth() {
    const result = await this.run([() => this.store.check(), () => this.novita.check()]);
    // Informational like Novita's state: a store hiccup reading it already shows in the store indicator.
    return { ...result, migrationService: await this.migration.healthBlock().catch(() => null) };
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
