import { Counter, Histogram, Registry } from 'prom-client';
import { HttpRequestMetrics } from './http-request-metrics';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LABELS = ['method', 'route', 'status_code'] as const;

/** The same observations through prom-client's own Counter and Histogram, in a registry of their own. */
function reference() {
  const registry = new Registry();
  const counter = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: LABELS,
    registers: [registry],
  });
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, by method, route template and status code.',
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    counter,
    record(method: string, route: string, status: number, seconds: number) {
      const labels = { method, route, status_code: String(status) };
      counter.inc(labels);
      histogram.observe(labels, seconds);
    },
  };
}

describe(HttpRequestMetrics.name, () => {
  const observations: [string, string, number, number][] = [
    ['GET', '/health/live', 200, 0.0001],
    ['GET', '/api/instances/:instanceId', 200, 0.005], // on a bound: counted in it
    ['GET', '/api/instances/:instanceId', 200, 0.0051],
    ['POST', '/api/instances', 201, 0.3],
    ['POST', '/api/instances', 503, 31], // past the last bound: only +Inf
    ['GET', 'unmatched', 404, 0.002],
    ['GET', '/api/instances/:instanceId', 200, 2.5],
    ['GET', '/health/live', 200, 0.012],
  ];

  it('renders the exposition prom-client’s Counter and Histogram render for the same requests', async () => {
    const ours = new Registry();
    const metrics = new HttpRequestMetrics(ours, BUCKETS);
    const ref = reference();
    for (const [method, route, status, seconds] of observations) {
      metrics.record(method, route, status, seconds);
      ref.record(method, route, status, seconds);
    }
    expect(await ours.metrics()).toBe(await ref.registry.metrics());
    // The JSON form too, but for prom-client's exemplar slot (always null here: none are recorded).
    const withoutExemplars = (metrics: unknown) =>
      JSON.parse(JSON.stringify(metrics, (key, value: unknown) => (key === 'exemplar' ? undefined : value)));
    expect(await ours.getMetricsAsJSON()).toEqual(withoutExemplars(await ref.registry.getMetricsAsJSON()));
    expect(metrics.counts()).toEqual((await ref.counter.get()).values);
  });

  it('starts again from nothing when the registry resets its metrics', async () => {
    const registry = new Registry();
    const metrics = new HttpRequestMetrics(registry, BUCKETS);
    metrics.record('GET', '/health/live', 200, 0.001);
    registry.resetMetrics();
    expect(metrics.counts()).toEqual([]);
    expect(await registry.metrics()).not.toContain('http_requests_total{');
  });
});
