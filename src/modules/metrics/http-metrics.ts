import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import { MetricsService } from '../../infra/metrics/metrics.service';

/** Requests that matched no route share one label value, so scanners probing random paths add no series. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts and times every response by route template (never the raw URL, which carries ids). Each
 * route gets its own recorder with its template fixed when the route is added, so no request has to
 * look its route up; requests that matched none are recorded by one global hook.
 * Must run before the routes are added (before app.init()).
 */
export function registerHttpMetrics(app: NestFastifyApplication): void {
  const metrics = app.get(MetricsService);
  const fastify = app.getHttpAdapter().getInstance();
  const recorderFor =
    (route: string) =>
    (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      metrics.recordHttp(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
  fastify.addHook('onRoute', (route) => {
    const own = route.onResponse ? ([] as onResponseHookHandler[]).concat(route.onResponse) : [];
    route.onResponse = [...own, recorderFor(route.url) as onResponseHookHandler];
  });
  const unmatched = recorderFor(UNMATCHED_ROUTE);
  fastify.addHook('onResponse', (request, reply, done) => {
    if (request.is404) unmatched(request, reply, done);
    else done();
  });
}
