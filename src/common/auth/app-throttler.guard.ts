import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerOptions } from '@nestjs/throttler';
import {
  THROTTLER_BLOCK_DURATION,
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
} from '@nestjs/throttler/dist/throttler.constants';
import { ThrottlerRequest } from '@nestjs/throttler/dist/throttler.guard.interface';
import { extractApiKey } from './api-key.guard';
import { keyDigest } from './key-digest';

/** One throttler's settings for a handler, as ThrottlerGuard.canActivate resolves them. */
type Plan = Omit<ThrottlerRequest, 'context'> | 'skip';

/** Rate limits only the API: probes, docs, metrics and the dashboard's static files are exempt. */
@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  /**
   * Per handler: decorators are fixed once the app is built, so the library's five metadata lookups
   * per throttler and request are done once. Undefined when something is decided per request
   * (skipIf, a function as limit, ttl or block duration): then the library's path runs.
   */
  private readonly plans = new Map<object, Map<object, Plan[] | undefined>>();

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (await this.shouldSkip(context)) return true;
    const handler = context.getHandler();
    const classRef = context.getClass();
    // By class and handler: a handler inherited by two controllers can carry different decorators.
    let byHandler = this.plans.get(classRef);
    if (!byHandler) this.plans.set(classRef, (byHandler = new Map()));
    let plans = byHandler.get(handler);
    if (!byHandler.has(handler)) {
      plans = this.planFor(handler, classRef);
      byHandler.set(handler, plans);
    }
    if (!plans) return super.canActivate(context);
    for (const plan of plans) {
      // handleRequest answers true or throws the 429.
      if (plan !== 'skip') await this.handleRequest({ context, ...plan });
    }
    return true;
  }

  private planFor(handler: object, classRef: object): Plan[] | undefined {
    const targets = [handler, classRef] as Parameters<typeof this.reflector.getAllAndOverride>[1];
    const meta = <T>(key: string, throttler: ThrottlerOptions) =>
      this.reflector.getAllAndOverride<T | undefined>(key + throttler.name, targets);
    const plans: Plan[] = [];
    for (const throttler of this.throttlers) {
      if (throttler.skipIf || this.commonOptions.skipIf) return undefined;
      if (meta<boolean>(THROTTLER_SKIP, throttler)) {
        plans.push('skip');
        continue;
      }
      const limit = meta<unknown>(THROTTLER_LIMIT, throttler) ?? throttler.limit;
      const ttl = meta<unknown>(THROTTLER_TTL, throttler) ?? throttler.ttl;
      const blockDuration = meta<unknown>(THROTTLER_BLOCK_DURATION, throttler) ?? throttler.blockDuration ?? ttl;
      if (typeof limit !== 'number' || typeof ttl !== 'number' || typeof blockDuration !== 'number') return undefined;
      plans.push({
        limit,
        ttl,
        blockDuration,
        throttler,
        getTracker:
          meta<ThrottlerRequest['getTracker']>(THROTTLER_TRACKER, throttler) ??
          throttler.getTracker ??
          this.commonOptions.getTracker!,
        generateKey:
          meta<ThrottlerRequest['generateKey']>(THROTTLER_KEY_GENERATOR, throttler) ??
          throttler.generateKey ??
          this.commonOptions.generateKey!,
      });
    }
    return plans;
  }

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
