import { CacheRegistry } from './cache-registry';
import { MetricsService } from './metrics.service';

/** Value of one sample in the text exposition, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe(MetricsService.name, () => {
  let caches: CacheRegistry;
  let sut: MetricsService;

  beforeEach(() => {
    caches = new CacheRegistry();
    sut = new MetricsService(caches);
  });

  it('records background job passes: counts by outcome, duration and last success time', async () => {
    const before = Date.now() / 1000;
    sut.recordJobPass('sync', 'success', 1.5);
    sut.recordJobPass('sync', 'failure', 0.2, 'Novita unavailable');
    sut.recordJobPass('reconciler', 'success', 0.01);

    const text = await sut.render();
    expect(sample(text, 'background_job_passes_total{job="sync",outcome="success"}')).toBe(1);
    expect(sample(text, 'background_job_passes_total{job="sync",outcome="failure"}')).toBe(1);
    expect(sample(text, 'background_job_pass_duration_seconds_count{job="sync"}')).toBe(2);
    expect(sample(text, 'background_job_pass_duration_seconds_sum{job="sync"}')).toBeCloseTo(1.7);
    const lastSuccess = sample(text, 'background_job_last_success_timestamp_seconds{job="sync"}')!;
    expect(lastSuccess).toBeGreaterThanOrEqual(Math.floor(before));

    const ledger = sut.jobs.snapshot();
    expect(ledger.sync).toMatchObject({
      passes: 2,
      failures: 1,
      lastOutcome: 'failure',
      lastError: 'Novita unavailable',
    });
    expect(ledger.sync.lastSuccessAt).not.toBeNull();
    expect(ledger.reconciler).toMatchObject({
      passes: 1,
      failures: 0,
      lastOutcome: 'success',
      lastDurationMs: 10,
    });
  });

  it('counts HTTP requests by route template and status, and feeds the one-minute window', async () => {
    sut.recordHttp('GET', '/api/instances/:instanceId', 200, 0.02);
    sut.recordHttp('GET', '/api/instances/:instanceId', 200, 0.04);
    sut.recordHttp('POST', '/api/instances', 503, 0.1);

    const text = await sut.render();
    expect(
      sample(text, 'http_requests_total{method="GET",route="/api/instances/:instanceId",status_code="200"}'),
    ).toBe(2);
    expect(
      sample(
        text,
        'http_request_duration_seconds_count{method="POST",route="/api/instances",status_code="503"}',
      ),
    ).toBe(1);
    expect(sut.httpWindow.lastMinute()).toEqual({
      requestsPerMinute: 3,
      averageResponseTimeMs: 53.33,
      errorRate: 0.3333,
    });
  });

  it('reports the Novita breaker as one state set to 1', async () => {
    let state = 'closed';
    sut.watchBreaker(() => state);
    expect(sample(await sut.render(), 'novita_circuit_breaker_state{state="closed"}')).toBe(1);
    state = 'open';
    const text = await sut.render();
    expect(sample(text, 'novita_circuit_breaker_state{state="open"}')).toBe(1);
    expect(sample(text, 'novita_circuit_breaker_state{state="closed"}')).toBe(0);
  });

  it('records auto-stop actions by mode and savings in base units', async () => {
    sut.recordAutoStop({ dryRun: false });
    sut.recordAutoStop({ dryRun: true });
    sut.recordAutoStopSavings({ gpuHours: 1.5, dollars: 2.25 });
    sut.recordMigration('migrated');
    sut.recordWebhookAttempt('delivered');
    sut.recordNovitaCall('getInstance', 'upstream_timeout', 3);

    const text = await sut.render();
    expect(sample(text, 'auto_stop_gpu_seconds_saved_total')).toBe(5400);
    expect(sample(text, 'auto_stop_cost_saved_dollars_total')).toBe(2.25);
    expect(sample(text, 'auto_stop_stops_total{mode="stopped"}')).toBe(1);
    expect(sample(text, 'auto_stop_stops_total{mode="dry_run"}')).toBe(1);
    expect(sample(text, 'spot_migrations_total{outcome="migrated"}')).toBe(1);
    expect(sample(text, 'webhook_delivery_attempts_total{outcome="delivered"}')).toBe(1);
    expect(sample(text, 'novita_api_requests_total{operation="getInstance",result="upstream_timeout"}')).toBe(
      1,
    );
  });

  it('exposes cache look-ups and entries from the cache registry at scrape time', async () => {
    let entries = 3;
    caches.register({
      name: 'clusters',
      description: '',
      entries: () => entries,
      sizeBytes: () => 10,
      clear: () => {
        entries = 0;
      },
    });
    caches.hit('clusters');
    caches.hit('clusters');
    caches.miss('clusters');

    let text = await sut.render();
    expect(sample(text, 'cache_lookups_total{cache="clusters",result="hit"}')).toBe(2);
    expect(sample(text, 'cache_lookups_total{cache="clusters",result="miss"}')).toBe(1);
    expect(sample(text, 'cache_entries{cache="clusters"}')).toBe(3);
    await caches.clear(['clusters']);
    text = await sut.render();
    expect(sample(text, 'cache_entries{cache="clusters"}')).toBe(0);
    // Clearing a cache empties it; the hit and miss history stays.
    expect(sample(text, 'cache_lookups_total{cache="clusters",result="hit"}')).toBe(2);
  });

  it('runs scrape hooks before rendering, so store-derived gauges are current', async () => {
    sut.onScrape(async () => {
      sut.webhookQueueDepth.set(7);
    });
    expect(sample(await sut.render(), 'webhook_queue_depth')).toBe(7);
  });

  it('keeps separate instances apart (each app and test gets its own registry)', async () => {
    const other = new MetricsService(new CacheRegistry());
    sut.recordJobPass('sync', 'success', 1);
    expect(
      sample(await other.render(), 'background_job_passes_total{job="sync",outcome="success"}'),
    ).toBeUndefined();
  });
});
