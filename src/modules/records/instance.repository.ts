import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { StateStore, WriteOp } from '../../infra/store/state-store';
import {
  INDEX_VERSION,
  INDEX_VERSION_KEY,
  indexKey,
  indexRemovals,
  indexWrites,
  isSpotCandidate,
  NAMES_INDEX_KEY,
  nameMember,
  OBSERVED_INDEX_KEY,
  observedAt,
  parseNameMember,
  SPOT_INDEX_KEY,
} from './instance-index';
import { INSTANCE_STATUSES, InstanceRecord, InstanceStatus, isManaged } from './instance.types';

export const INSTANCE_KEY_PREFIX = 'instance:';
const NAME_KEY_PREFIX = 'instance-name:';
const NOVITA_KEY_PREFIX = 'instance-novita:';
/** Sorted set of idle deadlines (last used + threshold), read by the auto-stop sweeper. */
export const AUTOSTOP_DEADLINES_KEY = 'autostop:deadlines';
/** Deleted records stay readable for a while (GET by id says "deleted"), then expire. */
const DELETED_RECORD_TTL_MS = 7 * 24 * 3600_000;

export const instanceKey = (id: string): string => `${INSTANCE_KEY_PREFIX}${id}`;
/** The record tracking a Novita id. */
export const novitaKey = (novitaInstanceId: string): string => NOVITA_KEY_PREFIX + novitaInstanceId;
/** A token that changes with every write of the record (written in the same batch, after it). */
export const versionKey = (id: string): string => `record-version:${id}`;
/** What a sync pass last found for a Novita id (sync-marks.ts); dropped with the record's indexes. */
export const syncMarkKey = (novitaInstanceId: string): string => `sync-mark:${novitaInstanceId}`;
export const instanceMutexKey = (id: string): string => `instance-op:${id}`;
export const nameMutexKey = (name: string): string => `instance-name:${name}`;

/** Records per read when every record is read (listAll). */
const READ_SLICE = 1_000;

/** Versions are this process's random tag and a counter: unique across replicas without a store call. */
const VERSION_TAG = randomBytes(6).toString('base64url');
let versionSeq = 0;
const newVersion = (): string => `${VERSION_TAG}.${(++versionSeq).toString(36)}`;

/** Store access for instance records and their name and Novita-id indexes. No business rules here. */
@Injectable()
export class InstanceRepository {
  /** The index version mark was seen: the indexes cover every record. */
  private indexed = false;

  constructor(private readonly store: StateStore) {}

  get(id: string): Promise<InstanceRecord | null> {
    return this.store.get<InstanceRecord>(instanceKey(id));
  }

  async findByName(name: string): Promise<InstanceRecord | null> {
    const id = await this.store.get<string>(NAME_KEY_PREFIX + name);
    if (!id) return null;
    const record = await this.get(id);
    return record && record.name === name && record.status !== 'deleted' ? record : null;
  }

  findByNovitaId(novitaInstanceId: string): Promise<InstanceRecord | null> {
    return this.byNovitaId(novitaInstanceId, this.reader(false));
  }

  /** Our id first, then a Novita id. */
  findByAnyId(id: string): Promise<InstanceRecord | null> {
    return this.byAnyId(id, this.reader(false));
  }

  /**
   * findByAnyId for answering reads: may be served from this process's copy of the records (see
   * StateStore.getCached). Never the basis of a write.
   */
  findForRead(id: string): Promise<InstanceRecord | null> {
    return this.byAnyId(id, this.reader(true));
  }

  /**
   * findForRead without waiting: the record by our id or the Novita id when this process holds a
   * copy of it (StateStore.peekCached); undefined when finding it, or knowing it is absent, needs the store.
   */
  peekForRead(id: string): InstanceRecord | undefined {
    const direct = this.store.peekCached<InstanceRecord>(instanceKey(id));
    if (direct) return direct;
    if (direct === undefined) return undefined;
    const ourId = this.store.peekCached<string>(novitaKey(id));
    if (!ourId) return undefined;
    const record = this.store.peekCached<InstanceRecord>(instanceKey(ourId));
    return record && record.novitaInstanceId === id ? record : undefined;
  }

  /** The store read a lookup goes through: this process's copies (reads only) or the store itself. */
  private reader(cached: boolean): <T>(key: string) => Promise<T | null> {
    return cached ? (key) => this.store.getCached(key) : (key) => this.store.get(key);
  }

  private async byAnyId(
    id: string,
    read: <T>(key: string) => Promise<T | null>,
  ): Promise<InstanceRecord | null> {
    return (await read<InstanceRecord>(instanceKey(id))) ?? (await this.byNovitaId(id, read));
  }

  private async byNovitaId(
    novitaInstanceId: string,
    read: <T>(key: string) => Promise<T | null>,
  ): Promise<InstanceRecord | null> {
    const id = await read<string>(novitaKey(novitaInstanceId));
    if (!id) return null;
    const record = await read<InstanceRecord>(instanceKey(id));
    return record && record.novitaInstanceId === novitaInstanceId ? record : null;
  }

  /** The record, its Novita-id index and its list indexes, in one round trip. */
  async save(record: InstanceRecord): Promise<InstanceRecord> {
    const ttlMs = record.status === 'deleted' ? DELETED_RECORD_TTL_MS : undefined;
    const ops: WriteOp[] = [
      { op: 'set', key: instanceKey(record.id), value: record, ttlMs },
      { op: 'set', key: versionKey(record.id), value: newVersion(), ttlMs },
    ];
    if (record.novitaInstanceId && record.status !== 'deleted') {
      ops.push({ op: 'set', key: novitaKey(record.novitaInstanceId), value: record.id });
    }
    await this.store.writeBatch([...ops, ...indexWrites([record])]);
    return record;
  }

  /**
   * Writes many records in one round trip (with their Novita-id and list indexes). With claimNames, each
   * record's name is pointed at it where no record holds the name yet (one more round trip):
   * an instance found on Novita whose name is taken stays reachable by id.
   */
  async saveMany(records: InstanceRecord[], opts: { claimNames?: boolean } = {}): Promise<void> {
    if (records.length === 0) return;
    const entries: WriteOp[] = [];
    if (opts.claimNames) {
      const holders = await this.store.getMany<string>(records.map((r) => NAME_KEY_PREFIX + r.name));
      const claimed = new Set<string>();
      records.forEach((r, i) => {
        if (holders[i] || claimed.has(r.name)) return;
        claimed.add(r.name);
        entries.push({ op: 'set', key: NAME_KEY_PREFIX + r.name, value: r.id });
      });
    }
    for (const r of records) {
      entries.push({ op: 'set', key: instanceKey(r.id), value: r });
      entries.push({ op: 'set', key: versionKey(r.id), value: newVersion() });
      if (r.novitaInstanceId) entries.push({ op: 'set', key: novitaKey(r.novitaInstanceId), value: r.id });
    }
    await this.store.writeBatch([...entries, ...indexWrites(records)]);
  }

  /**
   * Every record id and every Novita id some record tracks, from one scan of keys (no record is
   * read): both key families start with "instance".
   */
  async scanIds(): Promise<{ ids: string[]; novitaIds: string[] }> {
    const ids: string[] = [];
    const novitaIds: string[] = [];
    for (const key of await this.store.scanKeys('instance')) {
      if (key.startsWith(INSTANCE_KEY_PREFIX)) ids.push(key.slice(INSTANCE_KEY_PREFIX.length));
      else if (key.startsWith(NOVITA_KEY_PREFIX)) novitaIds.push(key.slice(NOVITA_KEY_PREFIX.length));
    }
    return { ids, novitaIds };
  }

  /**
   * The id of every record, deleted ones included until they expire. Once the indexes are built,
   * from the names index in one round trip (it files every record); before that, from a scan of
   * keys, whose round trips grow with the number of keys.
   */
  async allIds(): Promise<string[]> {
    if (!(await this.indexesReady())) return (await this.scanIds()).ids;
    const members = await this.store.sortedSetRange(NAMES_INDEX_KEY, 0, -1);
    return members.map(({ member }) => parseNameMember(member).id);
  }

  /** The current version of each record, in order (null where gone): one round trip. */
  getMany(ids: string[]): Promise<(InstanceRecord | null)[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.store.getMany<InstanceRecord>(ids.map(instanceKey));
  }

  /**
   * Points the name at this record unless a live record already holds it. Callers hold the name
   * mutex, so the check and the write cannot interleave with another create.
   */
  async claimName(
    name: string,
    id: string,
  ): Promise<{ claimed: true } | { claimed: false; holder: InstanceRecord }> {
    const holder = await this.findByName(name);
    if (holder && holder.id !== id) return { claimed: false, holder };
    await this.store.set(NAME_KEY_PREFIX + name, id);
    return { claimed: true };
  }

  /** Frees the name and the Novita-id index of a record that is gone. */
  async releaseIndexes(record: InstanceRecord): Promise<void> {
    const keys: string[] = [];
    if ((await this.store.get<string>(NAME_KEY_PREFIX + record.name)) === record.id)
      keys.push(NAME_KEY_PREFIX + record.name);
    if (record.novitaInstanceId)
      keys.push(novitaKey(record.novitaInstanceId), syncMarkKey(record.novitaInstanceId));
    if (keys.length > 0) await this.store.delete(...keys);
    await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, record.id);
  }

  async remove(record: InstanceRecord): Promise<void> {
    await this.releaseIndexes(record);
    await this.store.writeBatch([
      { op: 'delete', key: instanceKey(record.id) },
      { op: 'delete', key: versionKey(record.id) },
      ...indexRemovals([record.id], [nameMember(record)]),
    ]);
  }

  /** Whether the indexes cover every record; once true it stays true for this process. */
  async indexesReady(): Promise<boolean> {
    this.indexed ||= (await this.store.get<number>(INDEX_VERSION_KEY)) === INDEX_VERSION;
    return this.indexed;
  }

  /**
   * Files every record under the indexes (in batches of `batchSize`), then marks them built. Safe
   * to repeat or to stop midway: each batch is complete in itself and the mark is written last.
   * Returns how many records were indexed, 0 when the indexes were already built.
   */
  async buildIndexes(batchSize = 500): Promise<number> {
    if (await this.indexesReady()) return 0;
    const { ids } = await this.scanIds();
    let indexed = 0;
    for (let i = 0; i < ids.length; i += batchSize) {
      // Each batch is read right before it is filed, so a record written meanwhile is filed as it
      // is now (its own write indexes it too).
      const records = (await this.getMany(ids.slice(i, i + batchSize))).filter(
        (r): r is InstanceRecord => r !== null,
      );
      await this.store.writeBatch(indexWrites(records));
      indexed += records.length;
    }
    await this.store.set(INDEX_VERSION_KEY, INDEX_VERSION);
    this.indexed = true;
    return indexed;
  }

  /**
   * Takes out of every index the records that no longer exist (deleted records expire): one scan of
   * keys and one read of the names index, no record read. Returns how many were removed.
   */
  async pruneIndexes(): Promise<number> {
    // Names first: a record's key is written before its index entries, so every entry read here
    // whose record still exists is found by the scan that follows.
    const names = await this.store.sortedSetRange(NAMES_INDEX_KEY, 0, -1);
    const existing = new Set((await this.scanIds()).ids);
    const gone = names.filter(({ member }) => !existing.has(parseNameMember(member).id));
    if (gone.length === 0) return 0;
    await this.store.writeBatch(
      indexRemovals(
        gone.map(({ member }) => parseNameMember(member).id),
        gone.map(({ member }) => member),
      ),
    );
    return gone.length;
  }

  /** listAll for answering reads (the comprehensive listing): records may come from this process's copies. */
  listAllForRead(): Promise<InstanceRecord[]> {
    return this.readAll((keys) => this.store.getManyCached<InstanceRecord>(keys));
  }

  listAll(): Promise<InstanceRecord[]> {
    return this.readAll((keys) => this.store.getMany<InstanceRecord>(keys));
  }

  /**
   * Every record, deleted ones included until they expire: the ids from allIds, then the records in
   * slices of READ_SLICE sent together. The store prepares one slice while this process decodes the
   * last, and no single decode of the whole fleet holds up the requests served in between.
   */
  private async readAll(
    readMany: (keys: string[]) => Promise<(InstanceRecord | null)[]>,
  ): Promise<InstanceRecord[]> {
    const ids = await this.allIds();
    const slices: Promise<(InstanceRecord | null)[]>[] = [];
    for (let i = 0; i < ids.length; i += READ_SLICE)
      slices.push(readMany(ids.slice(i, i + READ_SLICE).map(instanceKey)));
    return (await Promise.all(slices)).flat().filter((r): r is InstanceRecord => r !== null);
  }

  /**
   * The managed spot records still around (see isSpotCandidate): one index read and one batched
   * read of those records, whatever the size of the fleet. Before the indexes are built, every record.
   */
  async listSpotCandidates(): Promise<InstanceRecord[]> {
    if (!(await this.indexesReady())) return (await this.listAll()).filter(isSpotCandidate);
    const ids = (await this.store.sortedSetRange(SPOT_INDEX_KEY, 0, -1)).map((m) => m.member);
    return (await this.getMany(ids)).filter((r): r is InstanceRecord => r !== null && isSpotCandidate(r));
  }

  /**
   * Records per status and managed flag, from the index counts (no record is read once the indexes
   * are built). Deleted records count until they expire.
   */
  async countByStatus(): Promise<{ status: InstanceStatus; managed: boolean; count: number }[]> {
    const combos = INSTANCE_STATUSES.flatMap((status) =>
      [true, false].map((managed) => ({ status, managed })),
    );
    if (!(await this.indexesReady())) {
      const records = await this.listAll();
      return combos.map((c) => ({
        ...c,
        count: records.filter((r) => r.status === c.status && isManaged(r) === c.managed).length,
      }));
    }
    const counts = await Promise.all(combos.map((c) => this.store.sortedSetCount(indexKey(c))));
    return combos.map((c, i) => ({ ...c, count: counts[i] }));
  }

  /** Records whose Novita status was observed at or after the instant (ms): one count. */
  async countObservedSince(sinceMs: number): Promise<number> {
    if (!(await this.indexesReady()))
      return (await this.listAll()).filter((r) => (observedAt(r) ?? -Infinity) >= sinceMs).length;
    return this.store.sortedSetCount(OBSERVED_INDEX_KEY, sinceMs, Infinity);
  }

  async setIdleDeadline(id: string, deadlineMs: number): Promise<void> {
    await this.store.sortedSetAdd(AUTOSTOP_DEADLINES_KEY, [{ member: id, score: deadlineMs }]);
  }

  async clearIdleDeadline(id: string): Promise<void> {
    await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, id);
  }

  withInstanceLock<T>(id: string, fn: () => Promise<T>, waitMs = 10_000): Promise<T> {
    // A short TTL: if this process dies while holding it, the next one waits seconds, not minutes.
    return this.store.withMutex(instanceMutexKey(id), fn, { ttlMs: 15_000, waitMs });
  }

  withNameLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.store.withMutex(nameMutexKey(name), fn, { ttlMs: 15_000, waitMs: 10_000 });
  }
}
