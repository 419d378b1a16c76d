import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MetricsService } from '../../infra/metrics/metrics.service';

/** Requests that matched no route share one label value, so scanners probing random paths add no series. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Counts and times every response by route template (never the raw URL, which carries ids). */
export function registerHttpMetrics(app: NestFastifyApplication): void {
  const metrics = app.get(MetricsService);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics.recordHttp(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
