import { Injectable } from '@nestjs/common';
import { StateStore } from '../../infra/store/state-store';
import { OperationRecord } from './operation.types';

/** Sorted set of open operation ids, scored by the epoch ms at which each is next due. */
export const OPEN_OPERATIONS_KEY = 'operations:open';
/** Open migrations, scheduled apart from the reconciler's operations (the migration module advances them). */
export const OPEN_MIGRATIONS_KEY = 'migrations:open';
const OPERATION_KEY_PREFIX = 'operation:';
/** Closed operations stay readable for a week (GET shows the last operation), then expire. */
const CLOSED_OPERATION_TTL_MS = 7 * 24 * 3600_000;

@Injectable()
export class OperationRepository {
  constructor(private readonly store: StateStore) {}

  get(id: string): Promise<OperationRecord | null> {
    return this.store.get<OperationRecord>(OPERATION_KEY_PREFIX + id);
  }

  /** Writes an open operation and schedules it (record first: a scheduled id always has a record). */
  async open(op: OperationRecord, dueAt: number): Promise<void> {
    await this.store.set(OPERATION_KEY_PREFIX + op.id, op);
    await this.store.sortedSetAdd(OPEN_OPERATIONS_KEY, [{ member: op.id, score: dueAt }]);
  }

  async update(op: OperationRecord, nextDueAt: number): Promise<void> {
    await this.store.set(OPERATION_KEY_PREFIX + op.id, op);
    await this.store.sortedSetAdd(OPEN_OPERATIONS_KEY, [{ member: op.id, score: nextDueAt }]);
  }

  /** Stores the closed record, then unschedules it (a crash in between only causes one no-op pass). */
  async close(op: OperationRecord): Promise<void> {
    await this.store.set(OPERATION_KEY_PREFIX + op.id, op, { ttlMs: CLOSED_OPERATION_TTL_MS });
    await this.store.sortedSetRemove(OPEN_OPERATIONS_KEY, op.id);
  }

  /** Moves only the due time (never rewrites the record, which its caller may be updating). */
  async schedule(id: string, dueAt: number): Promise<void> {
    await this.store.sortedSetAdd(OPEN_OPERATIONS_KEY, [{ member: id, score: dueAt }]);
  }

  /** Every open operation, migrations included (sync leaves instances with one alone). */
  async openIds(limit = 10_000): Promise<string[]> {
    const [ops, migrations] = await Promise.all(
      [OPEN_OPERATIONS_KEY, OPEN_MIGRATIONS_KEY].map((key) =>
        this.store.sortedSetRangeByScore(key, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, limit),
      ),
    );
    return [...ops, ...migrations].map((m) => m.member);
  }

  async unschedule(id: string): Promise<void> {
    await this.store.sortedSetRemove(OPEN_OPERATIONS_KEY, id);
  }

  async due(now: number, limit: number): Promise<string[]> {
    const members = await this.store.sortedSetRangeByScore(
      OPEN_OPERATIONS_KEY,
      Number.NEGATIVE_INFINITY,
      now,
      limit,
    );
    return members.map((m) => m.member);
  }
}
