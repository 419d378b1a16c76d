import { RunSummary } from '../../../src/infra/scheduling/job.types';
import { WEBHOOK_JOB } from '../../../src/modules/webhooks/webhook-delivery.worker';
import { MemoryStateStore } from '../../../src/infra/store/memory-state-store';
import { RedisStateStore } from '../../../src/infra/store/redis-state-store';
import { StateStore } from '../../../src/infra/store/state-store';
import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { TEST_WEBHOOKS_CONFIG, WebhooksTestApp, startWebhooksApp } from './webhooks-test-app';

type Backend = 'memory' | 'redis';

/**
 * Two replicas on one store: only the lease holder's worker runs, and even when two delivery
 * passes overlap (lease lost mid-pass, or called directly) no attempt is sent twice.
 */
describe.each<Backend>(['memory', 'redis'])('webhook delivery with two replicas (%s store)', (backend) => {
  let redis: RedisServerHandle | undefined;
  let receiver: WebhookReceiver;
  let a: WebhooksTestApp;
  let b: WebhooksTestApp;
  let prefixCounter = 0;

  beforeAll(async () => {
    if (backend === 'redis') redis = await startRedisServer();
    receiver = await WebhookReceiver.start({
      secret: Buffer.from(TEST_WEBHOOKS_CONFIG.secret as string, 'utf8').toString('base64'),
    });
  });

  afterAll(async () => {
    await receiver.stop();
    await redis?.stop();
  });

  beforeEach(async () => {
    receiver.events.length = 0;
    receiver.respondWith(200);
    receiver.delayResponses(0);
    // Each replica has its own connection; with memory, they share the one in-process store.
    const keyPrefix = `wh${++prefixCounter}`;
    const shared = backend === 'memory' ? new MemoryStateStore() : undefined;
    const open = (): StateStore =>
      shared ??
      new RedisStateStore({
        redisUrl: (redis as RedisServerHandle).url,
        keyPrefix,
        connectTimeoutMs: 2_000,
        commandTimeoutMs: 2_000,
      });
    a = await startWebhooksApp(open());
    b = await startWebhooksApp(open());
  });

  afterEach(async () => {
    await a.close();
    await b.close();
  });

  async function emitMany(n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await a.emitter.emit({
        type: 'instance.running',
        instanceId: `inst_${i}`,
        data: { i },
        dedupeKey: `rep_${i}`,
        url: receiver.url,
      });
      ids.push(r.eventId);
    }
    return ids;
  }

  /** One loop tick at a given time on one replica; resolves with the webhook pass it ran, if any. */
  async function tickAt(app: WebhooksTestApp, at: number): Promise<RunSummary | null> {
    const runs: RunSummary[] = [];
    app.loop.onRun((r) => runs.push(r));
    await app.loop.tick(at);
    await app.loop.idle(WEBHOOK_JOB);
    return runs.find((r) => r.job === WEBHOOK_JOB) ?? null;
  }

  it('lets only the lease holder run a pass, and hands over when it shuts down', async () => {
    const ids = await emitMany(3);
    const t0 = Date.now();
    const [ra, rb] = await Promise.all([tickAt(a, t0), tickAt(b, t0)]);
    expect([ra, rb].filter((r) => r !== null)).toHaveLength(1);
    expect((ra ?? rb)?.counts.delivered).toBe(3);
    expect(receiver.events.map((e) => e.id).sort()).toEqual([...ids].sort());

    // The holder keeps its lease across ticks; the other replica stays idle.
    const holder = ra ? a : b;
    const other = ra ? b : a;
    await expect(tickAt(other, t0 + 5_000)).resolves.toBeNull();
    await expect(tickAt(holder, t0 + 60_000)).resolves.toMatchObject({ counts: { due: 0 } });

    // Shutting down releases the lease, so the other replica takes over on its next attempt.
    await holder.loop.onApplicationShutdown();
    await expect(tickAt(other, t0 + 120_000)).resolves.toMatchObject({ counts: { due: 0 } });
  });

  it('never sends the same attempt twice when two passes overlap', async () => {
    receiver.delayResponses(100);
    const ids = await emitMany(12);
    const now = Date.now();
    const [sa, sb] = await Promise.all([a.delivery.deliverDue(now), b.delivery.deliverDue(now)]);

    expect(sa.delivered + sb.delivered).toBe(12);
    expect(receiver.events).toHaveLength(12);
    for (const id of ids) expect(receiver.eventsWithId(id)).toHaveLength(1);
    const page = await b.service.listDeliveries({ limit: 50, offset: 0 });
    expect(
      page.deliveries.every(
        (d) => d.state === 'delivered' && d.attempts.length === 1 && d.attemptCount === 1,
      ),
    ).toBe(true);
  });

  it('records exactly one attempt per delivery per due time when overlapping passes both fail', async () => {
    receiver.respondWith(500);
    await emitMany(6);
    const now = Date.now();
    await Promise.all([a.delivery.deliverDue(now), b.delivery.deliverDue(now), a.delivery.deliverDue(now)]);
    expect(receiver.events).toHaveLength(6);
    const page = await a.service.listDeliveries({ limit: 50, offset: 0 });
    expect(page.deliveries.map((d) => d.attemptCount)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(page.deliveries.every((d) => d.state === 'pending')).toBe(true);
  });
});
