import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { MemoryStateStore } from '../../../src/infra/store/memory-state-store';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { TEST_WEBHOOKS_CONFIG, WebhooksTestApp, eventually, startWebhooksApp } from './webhooks-test-app';

interface DeliveryBody {
  id: string;
  eventId: string;
  state: string;
  attemptCount: number;
  attempts: { at: string; status?: number; error?: string; durationMs: number }[];
  nextAttemptAt: string | null;
  lastError?: string;
}

describe('webhooks API and worker: receiver down, retried, listed, replayed', () => {
  let receiver: WebhookReceiver;
  let ctx: WebhooksTestApp;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start({
      secret: Buffer.from(TEST_WEBHOOKS_CONFIG.secret as string, 'utf8').toString('base64'),
    });
    // A fast worker, so the real scheduler drives the retries.
    ctx = await startWebhooksApp(new MemoryStateStore(), {
      workerIntervalMs: 20,
      initialBackoffMs: 100,
      maxAttempts: 4,
    });
  });

  afterAll(async () => {
    await ctx.close();
    await receiver.stop();
  });

  const get = async (url: string) => {
    const res = await ctx.app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };

  it('retries with growing gaps while the receiver is down, lists the failure, and redelivers it once back', async () => {
    await receiver.stop();
    const emitted = await ctx.emitter.emit({
      type: 'instance.stopped',
      instanceId: 'inst_down',
      data: { reason: 'manual' },
      dedupeKey: 'op_down:stopped',
      url: receiver.url,
    });

    const failed = await eventually(async () => {
      const { body } = await get(`/api/webhooks/deliveries/${emitted.deliveryId}`);
      return body.state === 'failed' ? (body as unknown as DeliveryBody) : null;
    }, 10_000);

    expect(failed.attemptCount).toBe(4);
    expect(failed.attempts).toHaveLength(4);
    expect(failed.attempts.every((a) => a.error?.startsWith('ECONNREFUSED'))).toBe(true);
    const starts = failed.attempts.map((a) => Date.parse(a.at));
    const gaps = starts.slice(1).map((t, i) => t - starts[i]);
    // Nominal 100, 200, 400 ms, minus up to 20 % jitter, plus up to a worker tick.
    expect(gaps[0]).toBeGreaterThanOrEqual(80);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1]);
    expect(gaps[2]).toBeGreaterThanOrEqual(320);

    // Listed through the API, with its attempts.
    const list = await get('/api/webhooks/deliveries?state=failed&instanceId=inst_down');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ total: 1, limit: 50, offset: 0 });
    const listed = (list.body.deliveries as DeliveryBody[])[0];
    expect(listed).toMatchObject({
      id: emitted.deliveryId,
      eventId: emitted.eventId,
      state: 'failed',
      eventType: 'instance.stopped',
    });
    expect(listed.attempts).toHaveLength(4);
    expect((await get('/api/webhooks/deliveries?state=delivered')).body).toMatchObject({
      total: 0,
      deliveries: [],
    });

    // The receiver comes back; a redelivery sends the same event again.
    await receiver.restart();
    const redeliver = await ctx.app.inject({
      method: 'POST',
      url: `/api/webhooks/deliveries/${emitted.deliveryId}/redeliver`,
    });
    expect(redeliver.statusCode).toBe(202);
    expect(redeliver.json()).toMatchObject({ state: 'pending', attemptCount: 0, eventId: emitted.eventId });
    expect((redeliver.json() as DeliveryBody).attempts).toHaveLength(4);

    const received = await receiver.waitFor((e) => e.id === emitted.eventId, 5_000);
    expect(received.verified).toBe(true);
    expect(received.headers['webhook-id']).toBe(emitted.eventId);
    expect(received.payload).toMatchObject({
      id: emitted.eventId,
      type: 'instance.stopped',
      instanceId: 'inst_down',
    });

    const delivered = await eventually(async () => {
      const { body } = await get(`/api/webhooks/deliveries/${emitted.deliveryId}`);
      return body.state === 'delivered' ? (body as unknown as DeliveryBody) : null;
    });
    expect(delivered.attemptCount).toBe(1);
    expect(delivered.attempts.map((a) => a.status ?? 'error')).toEqual([
      'error',
      'error',
      'error',
      'error',
      200,
    ]);
    expect(receiver.eventsWithId(emitted.eventId)).toHaveLength(1);
  });

  it('answers 404 in the error envelope for an unknown delivery', async () => {
    const one = await get(`/api/webhooks/deliveries/whd_${'0'.repeat(24)}`);
    expect(one.status).toBe(404);
    expect(one.body).toMatchObject({
      error: { code: 'NOT_FOUND', message: 'Webhook delivery not found', requestId: expect.any(String) },
    });
    const replay = await ctx.app.inject({
      method: 'POST',
      url: `/api/webhooks/deliveries/whd_${'0'.repeat(24)}/redeliver`,
    });
    expect(replay.statusCode).toBe(404);
    expect(replay.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it.each(['whd_unknown', `whd_${'A'.repeat(24)}`, `whd_${'0'.repeat(25)}`, 'x'])(
    'answers 400 naming the id for the malformed delivery id %s, without a store lookup',
    async (id) => {
      const res = await get(`/api/webhooks/deliveries/${id}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        code: 'VALIDATION_ERROR',
        details: { fields: [{ field: 'id', messages: [expect.stringMatching(/^must be whd_/)] }] },
      });
    },
  );

  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=abc', 'limit'],
    ['offset=-1', 'offset'],
    ['state=lost', 'state'],
    ['event=instance.exploded', 'event'],
    ['unknown=1', 'unknown'],
  ])('rejects the query %s with a VALIDATION_ERROR naming the field', async (query, field) => {
    const res = await get(`/api/webhooks/deliveries?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: { code: 'VALIDATION_ERROR', details: { fields: [expect.objectContaining({ field })] } },
    });
  });

  it('pages with limit and offset', async () => {
    for (let i = 0; i < 3; i++) {
      await ctx.emitter.emit({
        type: 'instance.created',
        instanceId: 'inst_page',
        data: {},
        dedupeKey: `page_${i}`,
        url: receiver.url,
      });
      await new Promise((r) => setTimeout(r, 3));
    }
    const page = await get('/api/webhooks/deliveries?instanceId=inst_page&limit=2&offset=2');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 2 });
    expect(page.body.deliveries).toHaveLength(1);
    const first = await get('/api/webhooks/deliveries?instanceId=inst_page&event=instance.created&limit=1');
    expect((first.body.deliveries as DeliveryBody[])[0].eventId).toBe(
      (
        await ctx.emitter.emit({
          type: 'instance.created',
          instanceId: 'inst_page',
          data: {},
          dedupeKey: 'page_2',
        })
      ).eventId,
    );
  });

  it('documents the routes in Swagger with verb-noun operation ids', () => {
    const doc = SwaggerModule.createDocument(ctx.app, new DocumentBuilder().build(), {
      operationIdFactory: (_controller: string, method: string) => method,
    });
    expect(doc.paths['/api/webhooks/deliveries'].get?.operationId).toBe('listWebhookDeliveries');
    expect(doc.paths['/api/webhooks/deliveries/{id}'].get?.operationId).toBe('getWebhookDelivery');
    const redeliver = doc.paths['/api/webhooks/deliveries/{id}/redeliver'].post;
    expect(redeliver?.operationId).toBe('redeliverWebhookDelivery');
    expect(Object.keys(redeliver?.responses ?? {})).toEqual(expect.arrayContaining(['202', '404']));
    const params = (doc.paths['/api/webhooks/deliveries'].get?.parameters ?? []).map(
      (p) => (p as { name: string }).name,
    );
    expect(params).toEqual(expect.arrayContaining(['instanceId', 'event', 'state', 'limit', 'offset']));
    expect(doc.components?.schemas?.WebhookDeliveryResponse).toBeDefined();
  });
});
