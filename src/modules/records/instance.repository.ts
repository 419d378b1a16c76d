import { Injectable } from '@nestjs/common';
import { StateStore } from '../../infra/store/state-store';
import { InstanceRecord } from './instance.types';

export const INSTANCE_KEY_PREFIX = 'instance:';
const NAME_KEY_PREFIX = 'instance-name:';
const NOVITA_KEY_PREFIX = 'instance-novita:';
/** Sorted set of idle deadlines (last used + threshold), read by the auto-stop sweeper. */
export const AUTOSTOP_DEADLINES_KEY = 'autostop:deadlines';
/** Deleted records stay readable for a while (GET by id says "deleted"), then expire. */
const DELETED_RECORD_TTL_MS = 7 * 24 * 3600_000;

export const instanceKey = (id: string): string => `${INSTANCE_KEY_PREFIX}${id}`;
export const instanceMutexKey = (id: string): string => `instance-op:${id}`;
export const nameMutexKey = (name: string): string => `instance-name:${name}`;

/** Store access for instance records and their name and Novita-id indexes. No business rules here. */
@Injectable()
export class InstanceRepository {
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

  async findByNovitaId(novitaInstanceId: string): Promise<InstanceRecord | null> {
    const id = await this.store.get<string>(NOVITA_KEY_PREFIX + novitaInstanceId);
    if (!id) return null;
    const record = await this.get(id);
    return record && record.novitaInstanceId === novitaInstanceId ? record : null;
  }

  /** Our id first, then a Novita id. */
  async findByAnyId(id: string): Promise<InstanceRecord | null> {
    return (await this.get(id)) ?? (await this.findByNovitaId(id));
  }

  async save(record: InstanceRecord): Promise<InstanceRecord> {
    const ttlMs = record.status === 'deleted' ? DELETED_RECORD_TTL_MS : undefined;
    const entries: { key: string; value: unknown; ttlMs?: number }[] = [
      { key: instanceKey(record.id), value: record, ttlMs },
    ];
    if (record.novitaInstanceId && record.status !== 'deleted') {
      entries.push({ key: NOVITA_KEY_PREFIX + record.novitaInstanceId, value: record.id });
    }
    await this.store.setMany(entries);
    return record;
  }

  /**
   * Writes many records in one round trip (with their Novita-id indexes). With claimNames, each
   * record's name is pointed at it where no record holds the name yet (one more round trip):
   * an instance found on Novita whose name is taken stays reachable by id.
   */
  async saveMany(records: InstanceRecord[], opts: { claimNames?: boolean } = {}): Promise<void> {
    if (records.length === 0) return;
    const entries: { key: string; value: unknown }[] = [];
    if (opts.claimNames) {
      const holders = await this.store.getMany<string>(records.map((r) => NAME_KEY_PREFIX + r.name));
      const claimed = new Set<string>();
      records.forEach((r, i) => {
        if (holders[i] || claimed.has(r.name)) return;
        claimed.add(r.name);
        entries.push({ key: NAME_KEY_PREFIX + r.name, value: r.id });
      });
    }
    for (const r of records) {
      entries.push({ key: instanceKey(r.id), value: r });
      if (r.novitaInstanceId) entries.push({ key: NOVITA_KEY_PREFIX + r.novitaInstanceId, value: r.id });
    }
    await this.store.setMany(entries);
  }

  /**
   * The records tracking these Novita ids (two round trips for the whole batch: the index, then the
   * records). Ids no live record tracks are absent from the map.
   */
  async findManyByNovitaIds(novitaIds: string[]): Promise<Map<string, InstanceRecord>> {
    const found = new Map<string, InstanceRecord>();
    if (novitaIds.length === 0) return found;
    const ids = await this.store.getMany<string>(novitaIds.map((n) => NOVITA_KEY_PREFIX + n));
    const wanted = novitaIds.map((n, i) => [n, ids[i]] as const).filter(([, id]) => id);
    const records = await this.getMany(wanted.map(([, id]) => id!));
    wanted.forEach(([n], i) => {
      const r = records[i];
      if (r && r.novitaInstanceId === n) found.set(n, r);
    });
    return found;
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
    if (record.novitaInstanceId) keys.push(NOVITA_KEY_PREFIX + record.novitaInstanceId);
    if (keys.length > 0) await this.store.delete(...keys);
    await this.store.sortedSetRemove(AUTOSTOP_DEADLINES_KEY, record.id);
  }

  async remove(record: InstanceRecord): Promise<void> {
    await this.releaseIndexes(record);
    await this.store.delete(instanceKey(record.id));
  }

  /** Every record (one scan, one batched read). */
  async listAll(): Promise<InstanceRecord[]> {
    const keys = await this.store.scanKeys(INSTANCE_KEY_PREFIX);
    if (keys.length === 0) return [];
    const records = await this.store.getMany<InstanceRecord>(keys);
    return records.filter((r): r is InstanceRecord => r !== null);
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
