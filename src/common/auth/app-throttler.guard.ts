import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { extractApiKey } from './api-key.guard';
import { keyDigest } from './key-digest';

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
    if (key) return keyDigest(key).tracker;
    return `ip:${req.ip}`;
  }

  /** One budget per client and endpoint, as the default key; the tracker is already short, so no hashing. */
  protected override generateKey(context: ExecutionContext, tracker: string): string {
    return `${context.getClass().name}.${context.getHandler().name}:${tracker}`;
  }
}
