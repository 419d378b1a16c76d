import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { extractApiKey } from './api-key.guard';

/** Rate limits only the API: probes, docs, metrics and the dashboard's static files are exempt. */
@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<{ url: string }>();
    return !req.url.startsWith('/api/');
  }

  /** A client is its API key when it sends one (many clients may share a NAT address), else its IP. */
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const key = extractApiKey(req as any);
    if (key) return `key:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
    return `ip:${req.ip}`;
  }
}
