import { Injectable } from '@nestjs/common';
import { StateStore } from '../../infra/store/state-store';
import { DeliveryRecord } from './webhook-delivery.types';

/** Records are kept this long after their last change, so deliveries can be listed and replayed for a week. */
export const DELIVERY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

const KEY = {
  delivery: (id: string) => `webhooks:delivery:${id}`,
  /** Marks an event that had no target URL, so a replayed emit is still reported as a duplicate. */
  event: (eventId: string) => `webhooks:event:${eventId}`,
  /** Deliveries waiting for an attempt, scored by when it is due (ms). */
  due: 'webhooks:due',
  /** Every delivery, scored by creation time (ms), for listing. */
  index: 'webhooks:index',
  lock: (id: string) => `webhooks:delivery:${id}`,
};

/** The outbox in the shared store. Knows the key layout; no delivery rules live here. */
@Injectable()
export class WebhookDeliveryRepository {
  constructor(private readonly store: StateStore) {}

  /** Writes a new record; false when one with this id already exists (a replayed emit). */
  async create(record: DeliveryRecord): Promise<boolean> {
    return this.store.set(KEY.delivery(record.id), record, {
      onlyIfAbsent: true,
      ttlMs: DELIVERY_RETENTION_MS,
    });
  }

  async save(record: DeliveryRecord): Promise<void> {
    await this.store.set(KEY.delivery(record.id), record, { ttlMs: DELIVERY_RETENTION_MS });
  }

  get(id: string): Promise<DeliveryRecord | null> {
    return this.store.get<DeliveryRecord>(KEY.delivery(id));
  }

  /** True the first time an event id is seen. */
  async markEventSeen(eventId: string): Promise<boolean> {
    return this.store.set(KEY.event(eventId), 1, { onlyIfAbsent: true, ttlMs: DELIVERY_RETENTION_MS });
  }

  async addToIndex(record: DeliveryRecord): Promise<void> {
    await this.store.sortedSetAdd(KEY.index, [{ member: record.id, score: Date.parse(record.createdAt) }]);
  }

  async schedule(id: string, atMs: number): Promise<void> {
    await this.store.sortedSetAdd(KEY.due, [{ member: id, score: atMs }]);
  }

  async unschedule(id: string): Promise<void> {
    await this.store.sortedSetRemove(KEY.due, id);
  }

  /** Ids due at or before nowMs, earliest first. */
  async dueIds(nowMs: number, limit: number): Promise<string[]> {
    const members = await this.store.sortedSetRangeByScore(KEY.due, Number.NEGATIVE_INFINITY, nowMs, limit);
    return members.map((m) => m.member);
  }

  /** Deliveries waiting for an attempt (due now or later, or in flight). */
  async queueDepth(): Promise<number> {
    const members = await this.store.sortedSetRangeByScore(
      KEY.due,
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
    );
    return members.length;
  }

  /**
   * Every retained record, newest first. Index entries whose record expired are dropped on the way,
   * since sorted-set members do not expire with the records they point to.
   */
  async listAll(): Promise<DeliveryRecord[]> {
    const members = await this.store.sortedSetRangeByScore(
      KEY.index,
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
    );
    const ids = members.map((m) => m.member).reverse();
    const records = ids.length > 0 ? await this.store.getMany<DeliveryRecord>(ids.map(KEY.delivery)) : [];
    const missing = ids.filter((_, i) => records[i] === null);
    if (missing.length > 0) await this.store.sortedSetRemove(KEY.index, ...missing);
    return records.filter((r): r is DeliveryRecord => r !== null);
  }

  /** Serialises changes to one delivery across every replica on this store. */
  withDeliveryLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.store.withMutex(KEY.lock(id), fn, { ttlMs: 10_000, waitMs: 2_000 });
  }
}
