import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerModuleOptions, ThrottlerOptions } from '@nestjs/throttler';
import {
  THROTTLER_BLOCK_DURATION,
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
} from '@nestjs/throttler/dist/throttler.constants';
import { ThrottlerRequest } from '@nestjs/throttler/dist/throttler.guard.interface';
import type { FastifyRequest } from 'fastify';
import { extractApiKey } from './api-key.guard';
import { StoreThrottlerStorage } from './store-throttler.storage';
import { keyDigest } from './key-digest';

/** ThrottlerModule's options when given as an object (not a bare list of throttlers). */
type ThrottlerModuleOptionsObject = Exclude<ThrottlerModuleOptions, unknown[]>;

/** One throttler's settings for a handler, as ThrottlerGuard.canActivate resolves them. */
type Plan = Omit<ThrottlerRequest, 'context'> | 'skip';

const NO_HEADERS: readonly (string | number)[] = [];

/** Rate limits only the API: probes, docs, metrics and the dashboard's static files are exempt. */
@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  /**
   * Per handler: decorators are fixed once the app is built, so the library's five metadata lookups
   * per throttler and request are done once. Undefined when something is decided per request
   * (skipIf, a function as limit, ttl or block duration): then the library's path runs.
   */
  private readonly plans = new Map<object, Map<object, Plan[] | undefined>>();
  private readonly headerNames = new Map<string, readonly [string, string, string]>();

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (await this.shouldSkip(context)) return true;
    const plans = this.plansOf(context.getClass(), context.getHandler());
    if (!plans) return super.canActivate(context);
    for (const plan of plans) {
      // handleRequest answers true or throws the 429.
      if (plan !== 'skip') await this.handleRequest({ context, ...plan });
    }
    return true;
  }

  /**
   * canActivate's answer for a request to classRef's handler when it is yes and this replica's
   * reserved budget has it: spends the hit and returns the X-RateLimit-* headers canActivate would
   * set, as a flat list of names and values (empty for exempt paths and skipped handlers). Undefined
   * (nothing spent) means "ask
   * canActivate": the budget needs the store, or the client is refused, or the setup is one this
   * shortcut leaves to the library (several throttlers, ignored user agents, settings decided per request).
   */
  spendAtOnce(
    classRef: object,
    handler: object,
    req: Pick<FastifyRequest, 'url' | 'ip' | 'headers'>,
  ): readonly (string | number)[] | undefined {
    if (isExempt(req.url)) return NO_HEADERS;
    const plans = this.plansOf(classRef, handler);
    if (!plans || plans.length !== 1 || !(this.storageService instanceof StoreThrottlerStorage))
      return undefined;
    const plan = plans[0];
    if (plan === 'skip') return NO_HEADERS;
    const { throttler, limit } = plan;
    if (throttler.ignoreUserAgents || this.commonOptions.ignoreUserAgents) return undefined;
    // Only this class's own tracker and key: what every route uses unless the module options or a
    // decorator give others.
    const moduleOptions: Partial<ThrottlerModuleOptionsObject> = Array.isArray(this.options)
      ? {}
      : this.options;
    if (
      moduleOptions.getTracker ||
      moduleOptions.generateKey ||
      plan.getTracker !== this.commonOptions.getTracker ||
      plan.generateKey !== this.commonOptions.generateKey
    )
      return undefined;
    if ((throttler.setHeaders ?? this.commonOptions.setHeaders) === false) return undefined;
    const key = throttleKey(classRef, handler, this.trackerOf(req));
    const hit = this.storageService.spendReserved(key, limit, throttler.name!);
    if (!hit || hit.isBlocked) return undefined;
    const [limitName, remainingName, resetName] = this.headerNamesOf(throttler.name!);
    return [limitName, limit, remainingName, Math.max(0, limit - hit.totalHits), resetName, hit.timeToExpire];
  }

  /** The X-RateLimit-* names canActivate sets for a throttler, lower case as Fastify writes them. */
  private headerNamesOf(throttlerName: string): readonly [string, string, string] {
    let names = this.headerNames.get(throttlerName);
    if (!names) {
      const prefix = this.headerPrefix.toLowerCase();
      const suffix = throttlerName === 'default' ? '' : `-${throttlerName}`;
      names = [`${prefix}-limit${suffix}`, `${prefix}-remaining${suffix}`, `${prefix}-reset${suffix}`];
      this.headerNames.set(throttlerName, names);
    }
    return names;
  }

  /** The handler's plans, worked out on first use. By class and handler: a handler inherited by two controllers can carry different decorators. */
  private plansOf(classRef: object, handler: object): Plan[] | undefined {
    let byHandler = this.plans.get(classRef);
    if (!byHandler) this.plans.set(classRef, (byHandler = new Map()));
    if (!byHandler.has(handler)) byHandler.set(handler, this.planFor(handler, classRef));
    return byHandler.get(handler);
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
      const blockDuration =
        meta<unknown>(THROTTLER_BLOCK_DURATION, throttler) ?? throttler.blockDuration ?? ttl;
      if (typeof limit !== 'number' || typeof ttl !== 'number' || typeof blockDuration !== 'number')
        return undefined;
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
    return isExempt(context.switchToHttp().getRequest<{ url: string }>().url);
  }

  /** A client is its API key when it sends one (many clients may share a NAT address), else its IP. */
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    return this.trackerOf(req as FastifyRequest);
  }

  private trackerOf(req: Pick<FastifyRequest, 'headers' | 'ip'>): string {
    const key = extractApiKey(req);
    return key ? keyDigest(key).tracker : `ip:${req.ip}`;
  }

  protected override generateKey(context: ExecutionContext, tracker: string): string {
    return throttleKey(context.getClass(), context.getHandler(), tracker);
  }
}

/** Probes, docs, metrics and the dashboard's files are not rate limited: only /api/* is. */
function isExempt(url: string): boolean {
  return !url.startsWith('/api/');
}

/** One budget per client and endpoint, as the library's default key; the tracker is already short, so no hashing. */
function throttleKey(classRef: object, handler: object, tracker: string): string {
  return `${(classRef as { name: string }).name}.${(handler as { name: string }).name}:${tracker}`;
}
