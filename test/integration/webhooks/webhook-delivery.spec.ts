import { LookupAddress } from 'node:dns';
import { MemoryStateStore } from '../../../src/infra/store/memory-state-store';
import { INTERRUPTED_ATTEMPT_ERROR } from '../../../src/modules/webhooks/webhook-attempt.policy';
import { DeliveryRecord } from '../../../src/modules/webhooks/webhook-delivery.types';
import { EmitWebhookInput } from '../../../src/modules/webhooks/webhook-emitter';
import { WEBHOOK_USER_AGENT, guardedLookup } from '../../../src/modules/webhooks/webhook-http.sender';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { TEST_WEBHOOKS_CONFIG, WebhooksTestApp, startWebhooksApp } from './webhooks-test-app';

/** What a receiver hands to `new Webhook(...)` for a plain configured secret (see docs/webhooks.md). */
const receiverSecret = (configured: string) => Buffer.from(configured, 'utf8').toString('base64');

const event = (receiver: WebhookReceiver, over: Partial<EmitWebhookInput> = {}): EmitWebhookInput => ({
  type: 'instance.ready',
  instanceId: 'inst_1',
  data: { status: 'running', endpoints: [{ port: 8080, ok: true }] },
  dedupeKey: `op_${Math.random()}:ready`,
  url: receiver.url,
  ...over,
});

describe('webhook delivery (real HTTP receiver, memory store)', () => {
  let store: MemoryStateStore;
  let receiver: WebhookReceiver;
  let ctx: WebhooksTestApp;

  beforeEach(async () => {
    store = new MemoryStateStore();
    receiver = await WebhookReceiver.start({ secret: receiverSecret(TEST_WEBHOOKS_CONFIG.secret as string) });
    ctx = await startWebhooksApp(store);
  });

  afterEach(async () => {
    await ctx.close();
    await receiver.stop();
  });

  const record = (id: string | null) => ctx.service.getDelivery(id as string);

  it('sends a signed Standard Webhooks request that the library verifies, and a 2xx ends the delivery', async () => {
    const emitted = await ctx.emitter.emit(event(receiver));
    // Nothing is sent inline: the outbox entry waits for the worker.
    expect(receiver.events).toHaveLength(0);

    const before = Math.floor(Date.now() / 1000);
    const summary = await ctx.delivery.deliverDue(Date.now());
    expect(summary).toMatchObject({ due: 1, delivered: 1, retrying: 0 });

    expect(receiver.events).toHaveLength(1);
    const got = receiver.events[0];
    expect(got.verified).toBe(true);
    expect(got.id).toBe(emitted.eventId);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe(WEBHOOK_USER_AGENT);
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Number(got.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(before);
    expect(Number(got.headers['webhook-timestamp'])).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));

    const stored = await record(emitted.deliveryId);
    expect(got.body).toBe(JSON.stringify(stored.payload));
    expect(got.payload).toEqual({
      id: emitted.eventId,
      type: 'instance.ready',
      timestamp: stored.createdAt,
      instanceId: 'inst_1',
      data: { status: 'running', endpoints: [{ port: 8080, ok: true }] },
    });
    expect(stored.state).toBe('delivered');
    expect(stored.attempts).toHaveLength(1);
    expect(stored.attempts[0].status).toBe(200);

    // Delivered means done: later passes send nothing.
    await expect(ctx.delivery.deliverDue(Date.now() + 3_600_000)).resolves.toMatchObject({ due: 0 });
    expect(receiver.events).toHaveLength(1);
  });

  it('signs with a whsec_ secret as is', async () => {
    const secret = 'whsec_' + Buffer.from('another secret, 32 bytes long!!!').toString('base64');
    const other = await WebhookReceiver.start({ secret });
    const app = await startWebhooksApp(new MemoryStateStore(), { secret });
    try {
      await app.emitter.emit(event(other));
      await app.delivery.deliverDue(Date.now());
      expect(other.events.map((e) => e.verified)).toEqual([true]);
    } finally {
      await app.close();
      await other.stop();
    }
  });

  it('sends unsigned when no secret is configured', async () => {
    const app = await startWebhooksApp(new MemoryStateStore(), { secret: undefined });
    try {
      await app.emitter.emit(event(receiver));
      await app.delivery.deliverDue(Date.now());
      expect(receiver.events).toHaveLength(1);
      expect(receiver.events[0].headers['webhook-signature']).toBeUndefined();
      expect(receiver.events[0].headers['webhook-id']).toMatch(/^evt_/);
      expect(receiver.events[0].verified).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('stops on 410 Gone and never tries again', async () => {
    receiver.respondWith(410);
    const emitted = await ctx.emitter.emit(event(receiver));
    await expect(ctx.delivery.deliverDue(Date.now())).resolves.toMatchObject({ gone: 1 });
    for (const later of [60_000, 3_600_000, 86_400_000]) await ctx.delivery.deliverDue(Date.now() + later);
    expect(receiver.events).toHaveLength(1);
    const stored = await record(emitted.deliveryId);
    expect(stored).toMatchObject({ state: 'gone', attemptCount: 1, nextAttemptAt: null });
  });

  it('retries non-2xx answers on the backoff schedule with the same webhook-id, then delivers', async () => {
    receiver.respondWith(500, 1);
    receiver.respondWith(503, 1);
    const emitted = await ctx.emitter.emit(event(receiver));
    const t0 = Date.now();

    await expect(ctx.delivery.deliverDue(t0)).resolves.toMatchObject({ retrying: 1 });
    const afterFirst = await record(emitted.deliveryId);
    const firstGap = Date.parse(afterFirst.nextAttemptAt as string) - Date.parse(afterFirst.attempts[0].at);
    expect(firstGap).toBeGreaterThanOrEqual(80);
    expect(firstGap).toBeLessThanOrEqual(100);

    // Not due yet: nothing is sent.
    await expect(
      ctx.delivery.deliverDue(Date.parse(afterFirst.nextAttemptAt as string) - 1),
    ).resolves.toMatchObject({ due: 0 });
    expect(receiver.events).toHaveLength(1);

    await ctx.delivery.deliverDue(Date.parse(afterFirst.nextAttemptAt as string));
    const afterSecond = await record(emitted.deliveryId);
    const secondGap =
      Date.parse(afterSecond.nextAttemptAt as string) - Date.parse(afterSecond.attempts[1].at);
    expect(secondGap).toBeGreaterThanOrEqual(160);
    expect(secondGap).toBeLessThanOrEqual(200);

    await ctx.delivery.deliverDue(Date.parse(afterSecond.nextAttemptAt as string));
    const final = await record(emitted.deliveryId);
    expect(final.state).toBe('delivered');
    expect(final.attempts.map((a) => a.status)).toEqual([500, 503, 200]);
    expect(receiver.events.map((e) => e.id)).toEqual([emitted.eventId, emitted.eventId, emitted.eventId]);
    expect(receiver.events.every((e) => e.verified)).toBe(true);
    expect(new Set(receiver.events.map((e) => e.body)).size).toBe(1);
  });

  it('gives up after maxAttempts', async () => {
    receiver.respondWith(500);
    const emitted = await ctx.emitter.emit(event(receiver));
    let now = Date.now();
    for (let i = 0; i < 10; i++) {
      await ctx.delivery.deliverDue(now);
      now += 10_000;
    }
    const stored = await record(emitted.deliveryId);
    expect(stored).toMatchObject({
      state: 'failed',
      attemptCount: 4,
      lastError: 'receiver answered HTTP 500',
      nextAttemptAt: null,
    });
    expect(receiver.events).toHaveLength(4);
  });

  it('counts a slow receiver as a timed-out attempt and retries it', async () => {
    const app = await startWebhooksApp(new MemoryStateStore(), { timeoutMs: 200 });
    receiver.delayResponses(1_000);
    try {
      const emitted = await app.emitter.emit(event(receiver));
      await expect(app.delivery.deliverDue(Date.now())).resolves.toMatchObject({ retrying: 1 });
      const stored = await app.service.getDelivery(emitted.deliveryId as string);
      expect(stored.state).toBe('pending');
      expect(stored.attempts[0].error).toBe('timed out after 200 ms');
      expect(stored.attempts[0].durationMs).toBeGreaterThanOrEqual(190);
      expect(stored.attempts[0].durationMs).toBeLessThan(900);
    } finally {
      receiver.delayResponses(0);
      await app.close();
    }
  });

  it('retries an attempt whose worker died mid-flight instead of losing the event', async () => {
    const emitted = await ctx.emitter.emit(event(receiver));
    const stored = await record(emitted.deliveryId);
    // As left by a worker that claimed the delivery and crashed before recording anything.
    const crashed: DeliveryRecord = {
      ...stored,
      state: 'delivering',
      attemptCount: 1,
      claimToken: 'dead-worker',
      claimExpiresAt: new Date(Date.now() + 17_000).toISOString(),
    };
    await store.set(`webhooks:delivery:${stored.id}`, crashed);
    await store.sortedSetAdd('webhooks:due', [
      { member: stored.id, score: Date.parse(crashed.claimExpiresAt as string) },
    ]);

    // While the claim holds, nobody else sends it.
    await ctx.delivery.deliverDue(Date.now());
    expect(receiver.events).toHaveLength(0);

    await expect(ctx.delivery.deliverDue(Date.now() + 20_000)).resolves.toMatchObject({ delivered: 1 });
    expect(receiver.events).toHaveLength(1);
    const after = await record(emitted.deliveryId);
    expect(after.state).toBe('delivered');
    expect(after.attemptCount).toBe(2);
    expect(after.attempts.map((a) => a.error ?? a.status)).toEqual([INTERRUPTED_ATTEMPT_ERROR, 200]);
  });

  it('re-checks the target at delivery time and refuses private addresses when they are not allowed', async () => {
    // Queued while private targets were allowed, delivered by a replica where they are not.
    const emitted = await ctx.emitter.emit(event(receiver));
    const strict = await startWebhooksApp(store, { allowPrivateTargets: false });
    await expect(strict.delivery.deliverDue(Date.now())).resolves.toMatchObject({ failed: 1 });
    expect(receiver.events).toHaveLength(0);
    const stored = await record(emitted.deliveryId);
    expect(stored.state).toBe('failed');
    expect(stored.lastError).toMatch(/^target refused: must not target loopback address space/);
    // The strict app shares (and would close) the store; closing ctx afterwards is harmless.
    await strict.close();
  });

  it('refuses, at DNS time, a hostname resolving to a loopback address', async () => {
    const lookup = (allow: boolean) =>
      new Promise<{ err: Error | null; addresses: LookupAddress[] }>((resolve) =>
        guardedLookup(allow)('localhost', { all: true }, ((err: Error | null, addresses: LookupAddress[]) =>
          resolve({ err, addresses })) as never),
      );
    const refused = await lookup(false);
    expect(refused.err?.message).toMatch(
      /^target refused: localhost resolves to (127\.0\.0\.1|::1) \(loopback\), which is not a globally routable address/,
    );
    const allowed = await lookup(true);
    expect(allowed.err).toBeNull();
    expect(allowed.addresses.map((a) => a.address)).toContain('127.0.0.1');
  });
});
