import { Logger } from '@nestjs/common';
import { startSimulator, RunningSimulator } from '../../../simulator';
import { AppError, ErrorCode } from '../../../src/common/errors';
import { maxCallDurationMs } from '../../../src/infra/novita/novita-resilience';
import { NovitaInstance } from '../../../src/infra/novita/novita.types';
import { buildTestClient } from './novita-test-client';

/** The acceptance checks: bounded calls under faults, and a complete, single-pass listing. */
describe('HttpNovitaClient (acceptance)', () => {
  let server: RunningSimulator;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    server = await startSimulator({ seed: 23 });
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(() => server.sim.reset());

  it('should end 200 get-instance calls under 20% 5xx and 429 bursts in success or a classified error, each within its budget', async () => {
    const ids = server.sim.seedInstances(20, { status: 'running' }).map((i) => i.id);
    const retryAfterSeconds = 1;
    const { client, config } = buildTestClient(server, {
      timeoutMs: 300,
      maxRetries: 3,
      retryBaseDelayMs: 10,
      retryMaxDelayMs: 100,
      breakerThreshold: 5,
      maxConcurrent: 8,
    });
    // Every attempt may hit the timeout and every wait may be the longest Retry-After we sit out;
    // the slack covers timer and event-loop scheduling on a busy machine.
    const budgetMs = maxCallDurationMs(config, retryAfterSeconds * 1000) + 250;
    server.sim.injectFaults({ errorRate: 0.2, errorStatus: 503, latencyMs: 2, hang: { count: 3 } });

    const outcomes: { ok: boolean; code?: ErrorCode; ms: number }[] = [];
    let next = 0;
    // maxConcurrent workers, so no call waits in the bulkhead queue and each duration is the call's own.
    const worker = async () => {
      while (next < 200) {
        const n = next++;
        if (n % 50 === 0) server.sim.injectFaults({ burst429: { count: 4, retryAfterSeconds } });
        const id = ids[n % ids.length];
        const started = Date.now();
        try {
          const instance = await client.getInstance(id);
          expect(instance.id).toBe(id);
          outcomes.push({ ok: true, ms: Date.now() - started });
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          outcomes.push({ ok: false, code: (err as AppError).code, ms: Date.now() - started });
        }
      }
    };
    await Promise.all(Array.from({ length: config.maxConcurrent }, worker));

    expect(outcomes).toHaveLength(200);
    for (const o of outcomes) {
      expect(o.ms).toBeLessThanOrEqual(budgetMs);
      if (!o.ok)
        expect([
          ErrorCode.UPSTREAM_UNAVAILABLE,
          ErrorCode.UPSTREAM_TIMEOUT,
          ErrorCode.UPSTREAM_RATE_LIMITED,
        ]).toContain(o.code);
    }
    // The faults were really exercised (retries happened) and the retries did their job.
    const log = server.sim.callLog({ path: '/gpu/instance' });
    expect(log.filter((c) => c.status === 503).length).toBeGreaterThan(10);
    expect(log.filter((c) => c.status === 429).length).toBe(16);
    expect(outcomes.filter((o) => o.ok).length).toBeGreaterThanOrEqual(190);
  });

  it('should walk 1,000 instances page by page, each page exactly once, yielding 1,000 distinct ids', async () => {
    server.sim.seedInstances(1000, { status: 'running' });
    const { client } = buildTestClient(server);
    const pageSize = 37;

    const seen: NovitaInstance[] = [];
    for await (const instance of client.listAllInstances(undefined, pageSize)) seen.push(instance);

    expect(new Set(seen.map((i) => i.id)).size).toBe(1000);
    expect(seen).toHaveLength(1000);
    const pages = server.sim.callLog({ path: '/gpu/instances' }).map((c) => Number(c.query.pageNum));
    const expectedPages = Math.ceil(1000 / pageSize);
    expect(pages).toEqual(Array.from({ length: expectedPages }, (_, i) => i + 1));
    expect(
      server.sim.callLog({ path: '/gpu/instances' }).every((c) => c.query.pageSize === String(pageSize)),
    ).toBe(true);
  });

  it('should collect 1,000 instances with the pages after the first fetched concurrently, each page once', async () => {
    server.sim.seedInstances(1000, { status: 'running' });
    const { client, peakInFlight } = buildTestClient(server, { maxConcurrent: 4 });

    const all = await client.listAllPages(undefined, 37);

    expect(all).toHaveLength(1000);
    expect(new Set(all.map((i) => i.id)).size).toBe(1000);
    const listed = server.sim.listInstances().map((i) => i.id);
    expect(all.map((i) => i.id)).toEqual(listed);
    const pages = server.sim.callLog({ path: '/gpu/instances' }).map((c) => Number(c.query.pageNum));
    expect([...pages].sort((a, b) => a - b)).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
    expect(peakInFlight()).toBeLessThanOrEqual(4);
  });

  it('should stop on total when the last page is full, without asking for an empty page', async () => {
    server.sim.seedInstances(300, { status: 'exited' });
    server.sim.seedInstances(50, { status: 'running' });
    const { client } = buildTestClient(server);

    const ids: string[] = [];
    for await (const instance of client.listAllInstances({ status: 'exited' }, 100)) ids.push(instance.id);

    expect(new Set(ids).size).toBe(300);
    const calls = server.sim.callLog({ path: '/gpu/instances' });
    expect(calls.map((c) => c.query.pageNum)).toEqual(['1', '2', '3']);
    expect(calls.every((c) => c.query.status === 'exited')).toBe(true);
  });
});
