import { Injectable } from '@nestjs/common';
import { StateStore } from '../../infra/store/state-store';
import { OPEN_MIGRATIONS_KEY, OperationRepository } from '../records/operation.repository';
import { OperationRecord } from '../records/operation.types';

/**
 * Migration operations are OperationRecords (kind 'migrate') stored through the OperationRepository,
 * but scheduled in their own sorted set, so only the migration runner advances them.
 */
export { OPEN_MIGRATIONS_KEY };
const OPERATION_KEY_PREFIX = 'operation:';
const CLOSED_TTL_MS = 7 * 24 * 3600_000;
const LAST_MIGRATION_PREFIX = 'migration:last:';
const RECENT_KEY = 'migration:recent';
const RECENT_LIMIT = 50;
const STATS_PREFIX = 'migration:stats:';

export const STAT_NAMES = [
  'totalExecutions',
  'successfulExecutions',
  'totalInstancesProcessed',
  'totalMigrations',
  'executionTimeMsTotal',
  'migrationsSucceeded',
  'migrationsRecreated',
  'migrationsFailed',
] as const;
export type StatName = (typeof STAT_NAMES)[number];

/** A finished migration, as listed by /api/migration/status. */
export interface MigrationOutcome {
  operationId: string;
  instanceId: string;
  name: string;
  outcome: 'migrated' | 'recreated' | 'failed' | 'cancelled';
  originalNovitaInstanceId: string;
  novitaInstanceId: string | null;
  detectedAt: string;
  completedAt: string;
  migrationTimeMs: number | null;
  error?: { code: string; message: string };
}

@Injectable()
export class MigrationRepository {
  constructor(
    private readonly store: StateStore,
    private readonly operations: OperationRepository,
  ) {}

  get(id: string): Promise<OperationRecord | null> {
    return this.operations.get(id);
  }

  /** Record first, then the schedule: a scheduled id always has a record. */
  async save(op: OperationRecord, dueAt: number): Promise<void> {
    await this.store.set(OPERATION_KEY_PREFIX + op.id, op);
    await this.store.sortedSetAdd(OPEN_MIGRATIONS_KEY, [{ member: op.id, score: dueAt }]);
  }

  async close(op: OperationRecord): Promise<void> {
    await this.store.set(OPERATION_KEY_PREFIX + op.id, op, { ttlMs: CLOSED_TTL_MS });
    await this.store.sortedSetRemove(OPEN_MIGRATIONS_KEY, op.id);
  }

  async unschedule(id: string): Promise<void> {
    await this.store.sortedSetRemove(OPEN_MIGRATIONS_KEY, id);
  }

  async due(now: number, limit: number): Promise<string[]> {
    const members = await this.store.sortedSetRangeByScore(
      OPEN_MIGRATIONS_KEY,
      Number.NEGATIVE_INFINITY,
      now,
      limit,
    );
    return members.map((m) => m.member);
  }

  /** Every open migration with its record (a few at most: bounded by the spot instances). */
  async listOpen(): Promise<OperationRecord[]> {
    const members = await this.store.sortedSetRangeByScore(
      OPEN_MIGRATIONS_KEY,
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
    );
    if (members.length === 0) return [];
    const ops = await this.store.getMany<OperationRecord>(
      members.map((m) => OPERATION_KEY_PREFIX + m.member),
    );
    return ops.filter((o): o is OperationRecord => o !== null);
  }

  async lastMigrationAt(instanceId: string): Promise<number | null> {
    return this.store.get<number>(LAST_MIGRATION_PREFIX + instanceId);
  }

  async setLastMigrationAt(instanceId: string, at: number, keepMs: number): Promise<void> {
    await this.store.set(LAST_MIGRATION_PREFIX + instanceId, at, { ttlMs: keepMs });
  }

  async addStats(delta: Partial<Record<StatName, number>>): Promise<void> {
    for (const [name, by] of Object.entries(delta)) {
      if (by) await this.store.increment(STATS_PREFIX + name, by);
    }
  }

  async stats(): Promise<Record<StatName, number>> {
    const values = await this.store.getMany<number | string>(STAT_NAMES.map((n) => STATS_PREFIX + n));
    return Object.fromEntries(STAT_NAMES.map((n, i) => [n, Number(values[i] ?? 0) || 0])) as Record<
      StatName,
      number
    >;
  }

  /** Newest first. Written by the single runner of the frequent job, so read-modify-write is safe enough. */
  async addRecent(outcome: MigrationOutcome): Promise<void> {
    const list = (await this.store.get<MigrationOutcome[]>(RECENT_KEY)) ?? [];
    if (list.some((o) => o.operationId === outcome.operationId)) return;
    await this.store.set(RECENT_KEY, [outcome, ...list].slice(0, RECENT_LIMIT));
  }

  async recent(): Promise<MigrationOutcome[]> {
    return (await this.store.get<MigrationOutcome[]>(RECENT_KEY)) ?? [];
  }
}
