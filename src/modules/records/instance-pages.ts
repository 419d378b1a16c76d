import { Injectable } from '@nestjs/common';
import { SortedSetMember, StateStore } from '../../infra/store/state-store';
import {
  comesBefore,
  IndexFilter,
  indexKey,
  IndexPosition,
  indexRemovals,
  indexScore,
  matchesFilter,
  NAMES_INDEX_KEY,
  parseNameMember,
} from './instance-index';
import { InstanceRepository } from './instance.repository';
import { InstanceRecord } from './instance.types';

export interface PageQuery {
  filter: IndexFilter;
  /** Lower-case substring the name must contain. */
  name?: string;
  /** desc: newest first. */
  order: 'asc' | 'desc';
  limit: number;
  /** An offset into the matches, or the last record of the previous page. */
  start: { offset: number } | { after: IndexPosition };
}

export interface RecordPage {
  records: InstanceRecord[];
  /** Matches in the index; see listPage for how it can run ahead of the records. */
  total: number;
  /** Where the next page starts; null on the last page. */
  next: IndexPosition | null;
}

/** One index entry: a record's position, and its names-index member when read from there. */
type IndexEntry = IndexPosition & { nameMember?: string };

/**
 * When a cursor's position shares its score with other records, these entries are read beyond the
 * page so the ones at or before the position can be skipped without a second read.
 */
const TIE_SLACK = 16;
/**
 * Pages of instance records through the list indexes (instance-index.ts), which InstanceRepository
 * keeps current on every write: filters, order, offsets and cursors, reading only a page's records.
 */
@Injectable()
export class InstancePages {
  constructor(
    private readonly store: StateStore,
    private readonly repo: InstanceRepository,
  ) {}

  /**
   * One page of records in creation order, reading only the page's records once the indexes are
   * built (before that, every record, as the indexes cannot answer yet).
   * Index entries whose record is gone (deleted records expire) are skipped and taken out of the
   * index, as are records that no longer match (being written right now); the page is filled from
   * the entries after them. total counts index entries, so it can include expired records until a
   * page or the index job passes over them.
   * A name filter has the store match the names index (no record is read), then reads only the
   * page's records.
   */
  async listPage(q: PageQuery): Promise<RecordPage> {
    const matches = (r: InstanceRecord): boolean =>
      matchesFilter(r, q.filter) && (q.name === undefined || r.name.toLowerCase().includes(q.name));
    if (!(await this.repo.indexesReady())) {
      const all = (await this.repo.listAll()).filter(matches);
      const byId = new Map(all.map((r) => [r.id, r]));
      const entries = sortEntries(
        all.map((r) => ({ score: indexScore(r), id: r.id })),
        q.order,
      );
      return this.fill(q, matches, entries.length, ...inMemory(entries, q), async (ids) =>
        ids.map((id) => byId.get(id) ?? null),
      );
    }
    if (q.name !== undefined) {
      const entries = sortEntries(await this.nameMatches(q.filter, q.name), q.order);
      return this.fill(q, matches, entries.length, ...inMemory(entries, q), (ids) => this.repo.getMany(ids));
    }
    const key = indexKey(q.filter);
    const reverse = q.order === 'desc';
    const [first, total] = await Promise.all([
      'offset' in q.start
        ? this.store
            .sortedSetRange(key, q.start.offset, q.start.offset + q.limit, { reverse })
            .then((members) => members.map(toEntry))
        : this.entriesAfter(key, q.start.after, q.limit + 1, q.order),
      this.store.sortedSetCount(key),
    ]);
    return this.fill(
      q,
      matches,
      total,
      first,
      (after, count) => this.entriesAfter(key, after, count, q.order),
      (ids) => this.repo.getMany(ids),
    );
  }

  /** Names-index entries whose name contains the text and whose record is in the filter's set. */
  private async nameMatches(filter: IndexFilter, name: string): Promise<IndexEntry[]> {
    // The store matches the members; the name part is checked here (the text may match an id).
    const candidates = (await this.store.sortedSetFind(NAMES_INDEX_KEY, name))
      .map(({ member, score }) => ({ ...parseNameMember(member), score, nameMember: member }))
      .filter((c) => c.name.includes(name));
    if (candidates.length === 0) return [];
    const inFilter = await this.store.sortedSetScores(
      indexKey(filter),
      candidates.map((c) => c.id),
    );
    return candidates
      .filter((_, i) => inFilter[i] !== null)
      .map(({ id, score, nameMember }) => ({ id, score, nameMember }));
  }

  /**
   * Up to count index entries strictly after the position, in list order. Entries sharing the
   * position's score are ordered by id, so those at or before it are skipped.
   */
  private async entriesAfter(
    key: string,
    after: IndexPosition,
    count: number,
    order: 'asc' | 'desc',
  ): Promise<IndexEntry[]> {
    const reverse = order === 'desc';
    const [min, max] = reverse ? [-Infinity, after.score] : [after.score, Infinity];
    for (let skip = 0; ;) {
      const read = count + TIE_SLACK;
      const batch = (
        await this.store.sortedSetRangeByScore(key, min, max, read, { reverse, offset: skip })
      ).map(toEntry);
      const firstAfter = batch.findIndex((e) => comesBefore(after, e, order));
      if (firstAfter === -1) {
        if (batch.length < read) return [];
        skip += batch.length;
        continue;
      }
      const rest = batch.slice(firstAfter);
      if (rest.length >= count || batch.length < read) return rest.slice(0, count);
      skip += firstAfter;
    }
  }

  /**
   * Builds the page from index entries: reads their records, keeps those that still match, and
   * reads further entries for the ones that do not (taking the gone ones out of the index).
   * first: up to limit + 1 entries from the page's start (the extra one tells whether more follow).
   */
  private async fill(
    q: PageQuery,
    matches: (r: InstanceRecord) => boolean,
    total: number,
    first: IndexEntry[],
    entriesAfter: (after: IndexPosition, count: number) => Promise<IndexEntry[]>,
    load: (ids: string[]) => Promise<(InstanceRecord | null)[]>,
  ): Promise<RecordPage> {
    const records: InstanceRecord[] = [];
    const gone: IndexEntry[] = [];
    let entries = first;
    let last: IndexPosition | null = null;
    for (;;) {
      const need = q.limit - records.length;
      const taken = entries.slice(0, need);
      const more = entries.length > need;
      const found = await load(taken.map((e) => e.id));
      taken.forEach((entry, i) => {
        const record = found[i];
        if (record && matches(record)) {
          records.push(record);
          return;
        }
        total--;
        // Gone (expired): taken out of every index below. A record that no longer matches is only
        // skipped: it is being written right now, and that write files it where it belongs.
        // Re-filing it from this read could undo a newer write.
        if (!record) gone.push(entry);
      });
      if (taken.length > 0) last = { score: taken[taken.length - 1].score, id: taken[taken.length - 1].id };
      if (!more || records.length >= q.limit) {
        if (gone.length > 0) {
          const names = gone.flatMap((e) => (e.nameMember ? [e.nameMember] : []));
          await this.store.writeBatch(
            indexRemovals(
              gone.map((e) => e.id),
              names,
            ),
          );
        }
        return { records, total: Math.max(total, records.length), next: more ? last : null };
      }
      entries = await entriesAfter(last!, q.limit - records.length + 1);
    }
  }
}

const toEntry = ({ member, score }: SortedSetMember): IndexEntry => ({ id: member, score });

function sortEntries(entries: IndexEntry[], order: 'asc' | 'desc'): IndexEntry[] {
  return entries.sort((a, b) => (comesBefore(a, b, order) ? -1 : comesBefore(b, a, order) ? 1 : 0));
}

/** A page's first entries and a reader for the following ones, over entries already in list order. */
function inMemory(
  entries: IndexEntry[],
  q: PageQuery,
): [IndexEntry[], (after: IndexPosition, count: number) => Promise<IndexEntry[]>] {
  const indexAfter = (after: IndexPosition): number => {
    const i = entries.findIndex((e) => comesBefore(after, e, q.order));
    return i === -1 ? entries.length : i;
  };
  const start = 'offset' in q.start ? q.start.offset : indexAfter(q.start.after);
  return [
    entries.slice(start, start + q.limit + 1),
    async (after, count) => {
      const from = indexAfter(after);
      return entries.slice(from, from + count);
    },
  ];
}
