import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash } from 'node:crypto';
import { AppError, ErrorCode } from '../../common/errors';
import { AllConfig, WebhooksConfig } from '../../config/config.types';
import { MemoryStateStore } from '../../infra/store/memory-state-store';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { EmitWebhookInput } from './webhook-emitter';
import { WebhooksService } from './webhooks.service';

const baseConfig: WebhooksConfig = {
  url: 'https://global.example.com/hooks',
  secret: 'a-secret-of-sixteen+chars',
  timeoutMs: 1_000,
  maxAttempts: 3,
  initialBackoffMs: 100,
  maxBackoffMs: 1_000,
  allowPrivateTargets: false,
  workerIntervalMs: 60_000,
};

function setup(overrides: Partial<WebhooksConfig> = {}) {
  const store = new MemoryStateStore();
  const config = { get: () => ({ ...baseConfig, ...overrides }) } as unknown as ConfigService<
    AllConfig,
    true
  >;
  const repository = new WebhookDeliveryRepository(store);
  return { store, repository, service: new WebhooksService(config, repository) };
}

beforeAll(() => Logger.overrideLogger(false));

const input = (over: Partial<EmitWebhookInput> = {}): EmitWebhookInput => ({
  type: 'instance.ready',
  instanceId: 'inst_42',
  data: { status: 'running', ports: [8080] },
  dedupeKey: 'op_7:ready',
  ...over,
});

describe('WebhooksService.emit', () => {
  it('derives the event id from the dedupe key and stores the payload once, due now', async () => {
    const { service, store } = setup();
    const before = Date.now();
    const result = await service.emit(input());

    const hex = createHash('sha256').update('op_7:ready').digest('hex').slice(0, 24);
    expect(result).toEqual({ eventId: `evt_${hex}`, deliveryId: `whd_${hex}`, duplicate: false });
    const record = await service.getDelivery(result.deliveryId as string);
    expect(record.payload).toEqual({
      id: `evt_${hex}`,
      type: 'instance.ready',
      timestamp: record.createdAt,
      instanceId: 'inst_42',
      data: { status: 'running', ports: [8080] },
    });
    expect(Object.keys(record.payload)).toEqual(['id', 'type', 'timestamp', 'instanceId', 'data']);
    expect(Date.parse(record.payload.timestamp)).toBeGreaterThanOrEqual(before);
    expect(record).toMatchObject({
      state: 'pending',
      attemptCount: 0,
      attempts: [],
      url: 'https://global.example.com/hooks',
    });
    const due = await store.sortedSetRangeByScore('webhooks:due', 0, Number.POSITIVE_INFINITY);
    expect(due).toEqual([{ member: result.deliveryId, score: Date.parse(record.createdAt) }]);
    // Kept for a week.
    const ttl = await store.ttl(`webhooks:delivery:${result.deliveryId}`);
    expect(ttl).toBeGreaterThan(7 * 24 * 3600 * 1000 - 60_000);
  });

  it('turns a replayed emit into a no-op that reports a duplicate', async () => {
    const { service } = setup();
    const first = await service.emit(input());
    const second = await service.emit(input({ data: { changed: true } }));
    expect(second).toEqual({ ...first, duplicate: true });
    const page = await service.listDeliveries({ limit: 50, offset: 0 });
    expect(page.total).toBe(1);
    expect(page.deliveries[0].payload.data).toEqual({ status: 'running', ports: [8080] });
  });

  it('gives different keys different events', async () => {
    const { service } = setup();
    const a = await service.emit(input({ dedupeKey: 'op_1:ready' }));
    const b = await service.emit(input({ dedupeKey: 'op_2:ready' }));
    expect(a.eventId).not.toBe(b.eventId);
    expect((await service.listDeliveries({ limit: 50, offset: 0 })).total).toBe(2);
  });

  it('prefers the request URL, then the instance URL, then the global one', async () => {
    const { service } = setup();
    const explicit = await service.emit(
      input({
        dedupeKey: 'k1',
        url: 'https://req.example.com/',
        instanceWebhookUrl: 'https://inst.example.com/',
      }),
    );
    const instance = await service.emit(
      input({ dedupeKey: 'k2', url: null, instanceWebhookUrl: 'https://inst.example.com/' }),
    );
    const global = await service.emit(input({ dedupeKey: 'k3' }));
    expect((await service.getDelivery(explicit.deliveryId as string)).url).toBe('https://req.example.com/');
    expect((await service.getDelivery(instance.deliveryId as string)).url).toBe('https://inst.example.com/');
    expect((await service.getDelivery(global.deliveryId as string)).url).toBe(
      'https://global.example.com/hooks',
    );
  });

  it('returns an event id but no delivery when no URL applies, and still detects replays', async () => {
    const { service } = setup({ url: undefined });
    const first = await service.emit(input());
    expect(first.deliveryId).toBeNull();
    expect(first.eventId).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(first.duplicate).toBe(false);
    await expect(service.emit(input())).resolves.toEqual({ ...first, duplicate: true });
    expect((await service.listDeliveries({ limit: 50, offset: 0 })).total).toBe(0);
  });

  it('records a refused target as failed instead of scheduling it', async () => {
    const { service, store } = setup();
    const result = await service.emit(input({ url: 'http://169.254.169.254/latest' }));
    const record = await service.getDelivery(result.deliveryId as string);
    expect(record.state).toBe('failed');
    expect(record.lastError).toMatch(/^target refused: must not target linkLocal address space/);
    expect(
      await store.sortedSetRangeByScore('webhooks:due', Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
    ).toEqual([]);
  });

  it('re-indexes on replay when a crash left the record unindexed', async () => {
    const { service, store } = setup();
    const first = await service.emit(input());
    await store.sortedSetRemove('webhooks:due', first.deliveryId as string);
    await store.sortedSetRemove('webhooks:index', first.deliveryId as string);
    await service.emit(input());
    expect(await store.sortedSetScore('webhooks:due', first.deliveryId as string)).not.toBeNull();
    expect((await service.listDeliveries({ limit: 50, offset: 0 })).total).toBe(1);
  });
});

describe('WebhooksService deliveries', () => {
  it('filters and pages newest first', async () => {
    const { service } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await service.emit(
        input({
          dedupeKey: `k${i}`,
          instanceId: i % 2 ? 'odd' : 'even',
          type: i === 4 ? 'instance.stopped' : 'instance.ready',
        }),
      );
      ids.push(r.deliveryId as string);
      await new Promise((r) => setTimeout(r, 2));
    }
    const page = await service.listDeliveries({ limit: 2, offset: 1 });
    expect(page.total).toBe(5);
    expect(page.deliveries.map((d) => d.id)).toEqual([ids[3], ids[2]]);
    expect(
      (await service.listDeliveries({ instanceId: 'odd', limit: 50, offset: 0 })).deliveries.map((d) => d.id),
    ).toEqual([ids[3], ids[1]]);
    expect((await service.listDeliveries({ event: 'instance.stopped', limit: 50, offset: 0 })).total).toBe(1);
    expect((await service.listDeliveries({ state: 'delivered', limit: 50, offset: 0 })).total).toBe(0);
  });

  it('drops index entries whose record expired', async () => {
    const { service, store } = setup();
    const r = await service.emit(input());
    await store.delete(`webhooks:delivery:${r.deliveryId}`);
    expect((await service.listDeliveries({ limit: 50, offset: 0 })).total).toBe(0);
    expect(await store.sortedSetScore('webhooks:index', r.deliveryId as string)).toBeNull();
  });

  it('throws NOT_FOUND for unknown ids', async () => {
    const { service } = setup();
    await expect(service.getDelivery('whd_nope')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(service.redeliver('whd_nope')).rejects.toBeInstanceOf(AppError);
  });

  it('redelivers: pending, due now, same event, history kept, budget reset', async () => {
    const { service, repository, store } = setup();
    const r = await service.emit(input());
    const record = await service.getDelivery(r.deliveryId as string);
    const attempts = [{ at: record.createdAt, status: 500, durationMs: 3 }];
    await repository.save({
      ...record,
      state: 'failed',
      attemptCount: 3,
      attempts,
      nextAttemptAt: null,
      lastError: 'x',
    });
    await repository.unschedule(record.id);

    const now = new Date(Date.now() + 5_000);
    const reset = await service.redeliver(record.id, now);
    expect(reset).toMatchObject({
      state: 'pending',
      attemptCount: 0,
      attempts,
      eventId: r.eventId,
      nextAttemptAt: now.toISOString(),
    });
    expect(reset.payload).toEqual(record.payload);
    expect(await store.sortedSetScore('webhooks:due', record.id)).toBe(now.getTime());
  });

  it('refuses to redeliver while an attempt is in flight', async () => {
    const { service, repository } = setup();
    const r = await service.emit(input());
    const record = await service.getDelivery(r.deliveryId as string);
    await repository.save({
      ...record,
      state: 'delivering',
      claimToken: 't',
      claimExpiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await expect(service.redeliver(record.id)).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
  });

  it('checks URLs against the configured policy for other modules', () => {
    expect(() => setup().service.assertUrlAllowed('http://localhost:9/x')).toThrow(AppError);
    expect(() =>
      setup({ allowPrivateTargets: true }).service.assertUrlAllowed('http://localhost:9/x'),
    ).not.toThrow();
  });
});
