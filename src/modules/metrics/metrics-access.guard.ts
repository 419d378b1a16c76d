import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { extractApiKey } from '../../common/auth/api-key.guard';
import { AppError, ErrorCode } from '../../common/errors';
import { AllConfig } from '../../config/config.types';

/**
 * /metrics sits outside /api, so the global API key guard lets it through; with METRICS_REQUIRE_KEY=true
 * this guard asks for one of API_KEYS the same way.
 */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  private readonly required: boolean;
  private readonly keyDigests: Buffer[];

  constructor(config: ConfigService<AllConfig, true>) {
    this.required = config.get('operations', { infer: true }).metricsRequireKey;
    this.keyDigests = config.get('security', { infer: true }).apiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.required) return true;
    const presented = extractApiKey(context.switchToHttp().getRequest<FastifyRequest>());
    if (presented) {
      const d = digest(presented);
      let ok = false;
      for (const k of this.keyDigests) ok = timingSafeEqual(d, k) || ok;
      if (ok) return true;
    }
    throw new AppError(
      ErrorCode.UNAUTHORIZED,
      presented
        ? 'Invalid API key'
        : 'Missing API key (METRICS_REQUIRE_KEY=true: send X-API-Key or Authorization: Bearer)',
    );
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
