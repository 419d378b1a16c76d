import { SortedSetMember, WriteOp } from '../../infra/store/state-store';
import { INSTANCE_STATUSES, InstanceRecord, InstanceStatus, isManaged } from './instance.types';

/**
 * Sorted-set indexes over instance records, so a list page reads only its own records. Every set
 * is scored by creation time (ms) with the record id as member:
 *   index:instances:live[:managed|:unmanaged]              records not deleted
 *   index:instances:status:<status>[:managed|:unmanaged]  records in that status
 * One set per filter combination the list accepts, so any status/managed filter reads one set.
 * index:instances:names holds "<lower-case name>\0<id>" for every record: a name filter reads these
 * strings, never the records. A record's name never changes after it is created.
 * index:instances:spot holds the managed spot records that are not deleted, so the reclaim check
 * reads only those. index:instances:observed is scored by the last Novita observation (ms) instead,
 * so how many statuses are fresh is one count, not a read of every record.
 * None of these keys starts with "instance", so scans of the record keys never see them.
 */
const PREFIX = 'index:instances:';
export const NAMES_INDEX_KEY = `${PREFIX}names`;
/** Written once the indexes cover every record (see InstanceIndexJob); bump to rebuild them. */
export const INDEX_VERSION_KEY = `${PREFIX}version`;
export const INDEX_VERSION = 2;
export const SPOT_INDEX_KEY = `${PREFIX}spot`;
export const OBSERVED_INDEX_KEY = `${PREFIX}observed`;

export interface IndexFilter {
  /** Without a status: every record but deleted ones. */
  status?: InstanceStatus;
  managed?: boolean;
}

/** Where a page ends: the last record's creation time (ms) and id. */
export interface IndexPosition {
  score: number;
  id: string;
}

export function indexKey(filter: IndexFilter): string {
  const base = filter.status ? `status:${filter.status}` : 'live';
  const managed = filter.managed === undefined ? '' : filter.managed ? ':managed' : ':unmanaged';
  return PREFIX + base + managed;
}

const ALL_FILTERS: IndexFilter[] = [undefined, ...INSTANCE_STATUSES].flatMap((status) =>
  [undefined, true, false].map((managed) => ({ status, managed })),
);
/** Every filter set, in ALL_FILTERS order, then the spot set: the family a record is placed in. */
const FILTER_KEYS = [...ALL_FILTERS.map(indexKey), SPOT_INDEX_KEY];
const SPOT_POSITION = FILTER_KEYS.length - 1;

/** A managed spot instance still around: what spot recovery watches (it applies its own finer rules). */
export function isSpotCandidate(record: InstanceRecord): boolean {
  if (record.status === 'deleted' || !isManaged(record)) return false;
  return record.billingMode === 'spot' || record.spec?.billingMode === 'spot';
}

/** When Novita's status was last seen (ms), for records GET by id could serve without asking; else null. */
export function observedAt(record: InstanceRecord): number | null {
  if (!record.novitaInstanceId || record.status === 'deleted' || !record.lastSyncedAt) return null;
  const at = Date.parse(record.lastSyncedAt);
  return Number.isFinite(at) ? at : null;
}

export function matchesFilter(record: InstanceRecord, filter: IndexFilter): boolean {
  if (filter.status ? record.status !== filter.status : record.status === 'deleted') return false;
  return filter.managed === undefined || isManaged(record) === filter.managed;
}

export function indexScore(record: Pick<InstanceRecord, 'createdAt'>): number {
  const at = Date.parse(record.createdAt);
  return Number.isFinite(at) ? at : 0;
}

export const nameMember = (record: Pick<InstanceRecord, 'id' | 'name'>): string =>
  `${record.name.toLowerCase()}\u0000${record.id}`;

/** The id and the lower-case name a names-index member stands for. */
export function parseNameMember(member: string): { id: string; name: string } {
  const cut = member.lastIndexOf('\u0000');
  return { id: member.slice(cut + 1), name: member.slice(0, cut) };
}

/**
 * The index writes that file these records under their current status and managed flag: added to
 * the sets they belong to, removed from every other one (the previous version of a record is not
 * known, so it is removed everywhere else). Two commands whatever the number of records, riding in
 * the same batch as the record writes.
 */
export function indexWrites(records: InstanceRecord[]): WriteOp[] {
  if (records.length === 0) return [];
  const members = records.map((r) => ({
    member: r.id,
    score: indexScore(r),
    in: [
      ...ALL_FILTERS.flatMap((filter, i) => (matchesFilter(r, filter) ? [i] : [])),
      ...(isSpotCandidate(r) ? [SPOT_POSITION] : []),
    ],
  }));
  const observed: SortedSetMember[] = [];
  const unobserved: string[] = [];
  for (const r of records) {
    const at = observedAt(r);
    if (at === null) unobserved.push(r.id);
    else observed.push({ member: r.id, score: at });
  }
  const ops: WriteOp[] = [
    { op: 'sortedSetPlace', keys: FILTER_KEYS, members },
    {
      op: 'sortedSetAdd',
      key: NAMES_INDEX_KEY,
      members: records.map((r) => ({ member: nameMember(r), score: indexScore(r) })),
    },
  ];
  if (observed.length > 0) ops.push({ op: 'sortedSetAdd', key: OBSERVED_INDEX_KEY, members: observed });
  if (unobserved.length > 0)
    ops.push({ op: 'sortedSetRemove', key: OBSERVED_INDEX_KEY, members: unobserved });
  return ops;
}

/** Takes records out of every index; nameMembers where known (see nameMember). */
export function indexRemovals(ids: string[], nameMembers: string[] = []): WriteOp[] {
  const ops: WriteOp[] = [];
  if (ids.length > 0)
    ops.push({
      op: 'sortedSetPlace',
      keys: FILTER_KEYS,
      members: ids.map((id) => ({ member: id, score: 0, in: [] })),
    });
  if (ids.length > 0) ops.push({ op: 'sortedSetRemove', key: OBSERVED_INDEX_KEY, members: ids });
  if (nameMembers.length > 0) ops.push({ op: 'sortedSetRemove', key: NAMES_INDEX_KEY, members: nameMembers });
  return ops;
}

/** Whether a comes before b in the list order (newest first unless ascending): by score, then id. */
export function comesBefore(a: IndexPosition, b: IndexPosition, order: 'asc' | 'desc'): boolean {
  // Equal scores follow the store's own order (member byte-wise), reversed for newest first.
  const cmp = a.score - b.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return order === 'asc' ? cmp < 0 : cmp > 0;
}
