import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '../errors';
import { SECURITY_CONFIG } from './auth.tokens';
import type { SecurityConfig } from '../../config/config.types';
import { AuthFailureLimiter } from './auth-failure.limiter';
import { keyDigest } from './key-digest';

/** Reads the key from X-API-Key or Authorization: Bearer. */
export function extractApiKey(req: Pick<FastifyRequest, 'headers'>): string | undefined {
  const header = req.headers['x-api-key'];
  const direct = Array.isArray(header) ? header[0] : header;
  if (direct) return direct.trim();
  const auth = req.headers.authorization;
  const match = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  return match ? match[1].trim() : undefined;
}

/**
 * Every /api/* route needs one of API_KEYS when any are configured. Probes, docs, metrics and the UI stay open.
 * Failures count against the caller's address (AuthFailureLimiter): past the budget, 429 with Retry-After.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keyDigests: Buffer[];

  constructor(
    @Inject(SECURITY_CONFIG) security: SecurityConfig,
    private readonly failures: AuthFailureLimiter,
  ) {
    // Compare fixed-length digests so timingSafeEqual never sees different lengths and leaks nothing about key length.
    this.keyDigests = security.apiKeys.map((key) => keyDigest(key).digest);
  }

  /** Synchronous for requests that need no key (probes, docs, metrics): no promise per request. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    return this.needsKey(req) ? this.authenticate(req) : true;
  }

  /**
   * canActivate's answer when it is yes and needs no store read: no key needed, or a valid key from
   * an address with no recent failures here. False means "ask canActivate", not "refused".
   */
  passesAtOnce(req: Pick<FastifyRequest, 'url' | 'ip' | 'headers'>): boolean {
    if (!this.needsKey(req)) return true;
    return !this.failures.isSuspect(req.ip) && this.isValid(extractApiKey(req));
  }

  private needsKey(req: Pick<FastifyRequest, 'url'>): boolean {
    return this.keyDigests.length > 0 && (req.url.startsWith('/api/') || req.url === '/api');
  }

  private async authenticate(req: FastifyRequest): Promise<boolean> {
    await this.failures.assertNotBlocked(req.ip);
    const presented = extractApiKey(req);
    if (this.isValid(presented)) return true;
    const limited = await this.failures.recordFailure(req.ip);
    if (limited) throw limited;
    throw new AppError(
      ErrorCode.UNAUTHORIZED,
      presented ? 'Invalid API key' : 'Missing API key (send X-API-Key or Authorization: Bearer)',
    );
  }

  private isValid(presented: string | undefined): boolean {
    if (!presented) return false;
    const d = keyDigest(presented).digest;
    let ok = false;
    for (const k of this.keyDigests) ok = timingSafeEqual(d, k) || ok;
    return ok;
  }
}
