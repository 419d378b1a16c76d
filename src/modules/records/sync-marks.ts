import { Injectable } from '@nestjs/common';
import { StateStore } from '../../infra/store/state-store';
import { instanceKey, novitaKey, syncMarkKey, versionKey } from './instance.repository';
import { InstanceRecord } from './instance.types';

/** Marks expire so that ones left by instances long gone do not pile up; a live one is renewed daily. */
const SYNC_MARK_TTL_MS = 24 * 3600_000;

/** One instance on a page of Novita's listing, as a sync pass finds it in the store. */
export type SyncFound =
  /** The record and its version (null for a record written before versions existed). */
  | { id: string; record: InstanceRecord; version: string | null }
  /** Not written since a pass found it matching an observation with the same fingerprint: not read. */
  | { id: string; record: null; version: string };

/** What a pass found for one Novita id: stored as `<record id>|<record version>|<fingerprint>`. */
export interface SyncMark {
  novitaInstanceId: string;
  id: string;
  version: string;
  fingerprint: string;
}

/**
 * Sync marks: what a sync pass last found per Novita id, so that the next pass reads a record only
 * when the record (its version, which every write changes) or what Novita shows (the observation's
 * fingerprint) has changed since.
 */
@Injectable()
export class SyncMarks {
  constructor(private readonly store: StateStore) {}

  /**
   * For a page of Novita ids with the fingerprints of what Novita now shows for them: the record
   * tracking each, except where a mark shows the record was not written since a pass found it
   * against an observation with the same fingerprint (then only its id and version: nothing
   * changed on either side). Two round trips (index and marks, then versions and records), a third
   * only for marks gone stale; on Redis, index entries, marks and versions this process read before
   * and nobody changed since cost none. Ids no live record tracks are absent from the map.
   */
  async find(novitaIds: string[], fingerprints: string[]): Promise<Map<string, SyncFound>> {
    const found = new Map<string, SyncFound>();
    if (novitaIds.length === 0) return found;
    const n = novitaIds.length;
    // The index and the marks change rarely: read through this process's copies (see
    // StateStore.getCached), as are the versions of marked records below. A copy a moment behind
    // another replica's write only makes this pass act as if it had read a moment earlier.
    const first = await this.store.getManyCached<string>([
      ...novitaIds.map(novitaKey),
      ...novitaIds.map(syncMarkKey),
    ]);
    const marked: { nid: string; id: string; version: string }[] = [];
    const unmarked: { nid: string; id: string }[] = [];
    for (let i = 0; i < n; i++) {
      const id = first[i];
      if (!id) continue;
      const mark = parseMark(first[n + i]);
      if (mark && mark.id === id && mark.fingerprint === fingerprints[i])
        marked.push({ nid: novitaIds[i], id, version: mark.version });
      else unmarked.push({ nid: novitaIds[i], id });
    }
    const recordKeys = (list: { id: string }[]): string[] =>
      list.flatMap((u) => [instanceKey(u.id), versionKey(u.id)]);
    // Records about to be compared (and maybe written) are read from the store itself.
    const [versions, second] = await Promise.all([
      this.store.getManyCached<string>(marked.map((m) => versionKey(m.id))),
      unmarked.length > 0 ? this.store.getMany<unknown>(recordKeys(unmarked)) : Promise.resolve([]),
    ]);
    const stale: { nid: string; id: string }[] = [];
    marked.forEach((m, i) => {
      if (versions[i] === m.version) found.set(m.nid, { id: m.id, record: null, version: m.version });
      else stale.push(m);
    });
    const put = (list: { nid: string; id: string }[], values: unknown[]): void =>
      list.forEach((u, i) => {
        const record = values[2 * i] as InstanceRecord | null;
        const version = values[2 * i + 1] as string | null;
        if (record && record.novitaInstanceId === u.nid) found.set(u.nid, { id: u.id, record, version });
      });
    put(unmarked, second);
    if (stale.length > 0) put(stale, await this.store.getMany(recordKeys(stale)));
    return found;
  }

  /** Remembers what a pass found (see find); one round trip. */
  async mark(marks: SyncMark[]): Promise<void> {
    if (marks.length === 0) return;
    await this.store.writeBatch(
      marks.map((m) => ({
        op: 'set',
        key: syncMarkKey(m.novitaInstanceId),
        value: `${m.id}|${m.version}|${m.fingerprint}`,
        ttlMs: SYNC_MARK_TTL_MS,
      })),
    );
  }
}

function parseMark(
  raw: string | null | undefined,
): { id: string; version: string; fingerprint: string } | null {
  if (typeof raw !== 'string') return null;
  const a = raw.indexOf('|');
  const b = raw.indexOf('|', a + 1);
  if (a < 0 || b < 0) return null;
  return { id: raw.slice(0, a), version: raw.slice(a + 1, b), fingerprint: raw.slice(b + 1) };
}
