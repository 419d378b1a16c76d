import { StateStore } from '../../../src/infra/store/state-store';
import { indexKey, INDEX_VERSION_KEY, NAMES_INDEX_KEY } from '../../../src/modules/records/instance-index';
import { instanceKey, InstanceRepository } from '../../../src/modules/records/instance.repository';
import { InstancePages, PageQuery, RecordPage } from '../../../src/modules/records/instance-pages';
import { InstanceRecord, InstanceStatus } from '../../../src/modules/records/instance.types';
import { countingStore } from '../../support/counting-store';
import { ADAPTER_KINDS, StoreHarness } from '../store/store-harness';

/** The list indexes of InstanceRepository, against every store adapter (ordering and ties included). */
const harness = new StoreHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());
afterEach(() => jest.restoreAllMocks());

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function record(n: number, over: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id: `inst_${String(n).padStart(4, '0')}`,
    name: `Job-${n}`,
    status: 'running',
    novitaInstanceId: null,
    createdAt: new Date(T0 + n * 1000).toISOString(),
    ...over,
  } as InstanceRecord;
}

/** Counts store round trips (countingStore) and the record keys read. */
function counting(inner: StateStore): { store: StateStore; calls: string[]; recordsRead: () => number } {
  const reads = jest.spyOn(inner, 'getMany');
  const { store, calls } = countingStore(inner);
  const recordsRead = (): number =>
    reads.mock.calls.flatMap(([keys]) => keys).filter((k) => k.startsWith('instance:')).length;
  return { store, calls, recordsRead };
}

describe.each(ADAPTER_KINDS)('instance list indexes: %s store', (kind) => {
  let store: StateStore;
  let repo: InstanceRepository;

  const page = (q: Partial<PageQuery> = {}): Promise<RecordPage> =>
    new InstancePages(store, repo).listPage({
      filter: {},
      order: 'desc',
      limit: 100,
      start: { offset: 0 },
      ...q,
    });
  const ids = (p: RecordPage): string[] => p.records.map((r) => r.id);
  const members = async (key: string): Promise<string[]> =>
    (await store.sortedSetRange(key, 0, -1)).map((m) => m.member);

  beforeEach(async () => {
    store = harness.open(kind, harness.uniquePrefix());
    repo = new InstanceRepository(store);
    await repo.buildIndexes();
  });

  it('files a record under its status and managed flag and moves it when the status changes', async () => {
    await repo.save(record(1));
    await repo.save(record(2, { managed: false }));
    expect(await members(indexKey({ status: 'running' }))).toEqual(['inst_0001', 'inst_0002']);
    // A record without the flag (written before it existed) counts as managed.
    expect(await members(indexKey({ managed: true }))).toEqual(['inst_0001']);
    expect(await members(indexKey({ status: 'running', managed: false }))).toEqual(['inst_0002']);

    await repo.save(record(1, { status: 'stopped' }));
    expect(await members(indexKey({ status: 'running' }))).toEqual(['inst_0002']);
    expect(await members(indexKey({ status: 'running', managed: true }))).toEqual([]);
    expect(await members(indexKey({ status: 'stopped', managed: true }))).toEqual(['inst_0001']);
    expect(ids(await page({ filter: { status: 'stopped' } }))).toEqual(['inst_0001']);
    expect(ids(await page({ filter: { status: 'running' } }))).toEqual(['inst_0002']);
    expect(ids(await page({ filter: { managed: false } }))).toEqual(['inst_0002']);
    expect(ids(await page({ filter: { status: 'stopped', managed: false } }))).toEqual([]);
  });

  it('keeps the managed spot records in their own set, so the reclaim check reads only those', async () => {
    const spot = { billingMode: 'spot' } as Partial<InstanceRecord>;
    await repo.saveMany([
      record(1, spot),
      record(2),
      record(3, { ...spot, managed: false }),
      record(4, { spec: { billingMode: 'spot' } } as Partial<InstanceRecord>),
    ]);
    const c = counting(store);
    const found = await new InstanceRepository(c.store).listSpotCandidates();
    expect(found.map((r) => r.id).sort()).toEqual(['inst_0001', 'inst_0004']);
    expect(c.recordsRead()).toBe(2);
    // Deleted: out of the set; a removed record leaves it too.
    await repo.save(record(1, { ...spot, status: 'deleted' }));
    await repo.remove(record(4, { spec: { billingMode: 'spot' } } as Partial<InstanceRecord>));
    expect(await repo.listSpotCandidates()).toEqual([]);
  });

  it('counts fresh observations from the observed set without reading records', async () => {
    const seen = (n: number, at: number, over: Partial<InstanceRecord> = {}) =>
      record(n, { novitaInstanceId: `nv_${n}`, lastSyncedAt: new Date(at).toISOString(), ...over });
    await repo.saveMany([seen(1, T0 + 10_000), seen(2, T0 + 20_000), seen(3, T0 + 30_000), record(4)]);
    const c = counting(store);
    const counted = new InstanceRepository(c.store);
    expect(await counted.countObservedSince(T0 + 20_000)).toBe(2);
    expect(await counted.countObservedSince(T0)).toBe(3);
    expect(c.recordsRead()).toBe(0);
    // A newer observation moves the record's score; deletion takes it out.
    await repo.save(seen(1, T0 + 40_000));
    await repo.save(seen(3, T0 + 30_000, { status: 'deleted' }));
    expect(await repo.countObservedSince(T0 + 20_000)).toBe(2);
    expect(await repo.countObservedSince(T0 + 35_000)).toBe(1);
  });

  it('counts records per status and managed flag from the index sizes', async () => {
    await repo.saveMany([record(1), record(2, { managed: false }), record(3, { status: 'stopped' })]);
    const c = counting(store);
    const counts = await new InstanceRepository(c.store).countByStatus();
    const of = (status: InstanceStatus, managed: boolean) =>
      counts.find((x) => x.status === status && x.managed === managed)?.count;
    expect(of('running', true)).toBe(1);
    expect(of('running', false)).toBe(1);
    expect(of('stopped', true)).toBe(1);
    expect(of('ready', true)).toBe(0);
    expect(c.recordsRead()).toBe(0);
  });

  it('lists deleted records only under status=deleted, and forgets removed ones everywhere', async () => {
    await repo.saveMany([record(1), record(2), record(3)]);
    await repo.save(record(2, { status: 'deleted' }));
    expect(ids(await page())).toEqual(['inst_0003', 'inst_0001']);
    expect(ids(await page({ filter: { status: 'deleted' } }))).toEqual(['inst_0002']);

    await repo.remove(record(3));
    const listed = await page();
    expect(ids(listed)).toEqual(['inst_0001']);
    expect(listed.total).toBe(1);
    expect(await members(NAMES_INDEX_KEY)).toEqual(['job-1\u0000inst_0001', 'job-2\u0000inst_0002']);
  });

  it('skips entries whose record expired, fills the page from later ones and drops them from the index', async () => {
    const deleted = Array.from({ length: 6 }, (_, i) =>
      record(i + 1, { status: 'deleted' as InstanceStatus }),
    );
    await repo.saveMany(deleted);
    // Two of the newest expire (as deleted records do after their TTL).
    await store.delete(instanceKey('inst_0006'), instanceKey('inst_0004'));

    const first = await page({ filter: { status: 'deleted' }, limit: 3 });
    expect(ids(first)).toEqual(['inst_0005', 'inst_0003', 'inst_0002']);
    expect(first.total).toBe(4);
    expect(first.next).toEqual({ score: T0 + 2000, id: 'inst_0002' });
    expect(await members(indexKey({ status: 'deleted' }))).toEqual([
      'inst_0001',
      'inst_0002',
      'inst_0003',
      'inst_0005',
    ]);
    expect(ids(await page({ filter: { status: 'deleted' }, start: { after: first.next! } }))).toEqual([
      'inst_0001',
    ]);
  });

  it('skips a record whose write is still filing it elsewhere, filling the page from later entries', async () => {
    await repo.saveMany([record(1), record(2), record(3), record(4)]);
    // The record is written and its index entries not yet (they follow in the same batch).
    await store.set(instanceKey('inst_0003'), record(3, { status: 'stopped' }));
    const listed = await page({ filter: { status: 'running' }, limit: 2 });
    expect(ids(listed)).toEqual(['inst_0004', 'inst_0002']);
    expect(ids(await page({ filter: { status: 'running' }, start: { after: listed.next! } }))).toEqual([
      'inst_0001',
    ]);
  });

  it('skips expired records under a name filter too, taking their name out of the index', async () => {
    await repo.saveMany(
      [1, 2, 3].map((n) => record(n, { name: `keep-${n}`, status: 'deleted' as InstanceStatus })),
    );
    await store.delete(instanceKey('inst_0002'));
    const listed = await page({
      name: 'keep',
      filter: { status: 'deleted' },
      limit: 1,
      start: { offset: 1 },
    });
    expect(ids(listed)).toEqual(['inst_0001']);
    expect(listed.next).toBeNull();
    expect(await members(NAMES_INDEX_KEY)).toEqual(['keep-1\u0000inst_0001', 'keep-3\u0000inst_0003']);
    expect(await members(indexKey({ status: 'deleted' }))).toEqual(['inst_0001', 'inst_0003']);
  });

  it('prunes the entries of every record that no longer exists', async () => {
    await repo.saveMany([record(1, { status: 'deleted' }), record(2), record(3, { status: 'deleted' })]);
    await store.delete(instanceKey('inst_0001'));
    expect(await repo.pruneIndexes()).toBe(1);
    expect(await members(indexKey({ status: 'deleted' }))).toEqual(['inst_0003']);
    expect(await members(NAMES_INDEX_KEY)).toEqual(['job-2\u0000inst_0002', 'job-3\u0000inst_0003']);
    expect(await repo.pruneIndexes()).toBe(0);
  });

  it('filters by a case-insensitive name substring, with the status and managed filters', async () => {
    await repo.saveMany([
      record(1, { name: 'Train-A' }),
      record(2, { name: 'infer-b', managed: false }),
      record(3, { name: 'TRAIN-c', status: 'stopped' }),
      record(4, { name: 'train-d', status: 'deleted' }),
      record(5, { name: 'other' }),
    ]);
    expect(ids(await page({ name: 'train' }))).toEqual(['inst_0003', 'inst_0001']);
    expect(ids(await page({ name: 'train', filter: { status: 'deleted' } }))).toEqual(['inst_0004']);
    expect(ids(await page({ name: 'train', filter: { status: 'stopped', managed: true } }))).toEqual([
      'inst_0003',
    ]);
    expect(ids(await page({ name: '-', filter: { managed: false } }))).toEqual(['inst_0002']);
    const paged = await page({ name: 'n-', order: 'asc', limit: 1, start: { offset: 1 } });
    expect(ids(paged)).toEqual(['inst_0003']);
    expect(paged.total).toBe(2);
    expect(paged.next).toBeNull();
    expect((await page({ name: 'zzz' })).total).toBe(0);
    // Matches the id part of the index entries only: not a name match.
    expect((await page({ name: 'inst_' })).total).toBe(0);
  });

  it('pages by cursor without shifting when records are created or deleted between pages', async () => {
    await repo.saveMany(Array.from({ length: 10 }, (_, i) => record(i + 1)));
    const first = await page({ limit: 4 });
    expect(ids(first)).toEqual(['inst_0010', 'inst_0009', 'inst_0008', 'inst_0007']);

    // Newer records, and one on the first page and one ahead deleted, before the second page.
    await repo.saveMany([record(11), record(12)]);
    await repo.remove(record(9));
    await repo.save(record(5, { status: 'deleted' }));
    const second = await page({ limit: 4, start: { after: first.next! } });
    expect(ids(second)).toEqual(['inst_0006', 'inst_0004', 'inst_0003', 'inst_0002']);
    const third = await page({ limit: 4, start: { after: second.next! } });
    expect(ids(third)).toEqual(['inst_0001']);
    expect(third.next).toBeNull();

    const asc = await page({ order: 'asc', limit: 3 });
    expect(ids(asc)).toEqual(['inst_0001', 'inst_0002', 'inst_0003']);
    expect(ids(await page({ order: 'asc', limit: 3, start: { after: asc.next! } }))).toEqual([
      'inst_0004',
      'inst_0006',
      'inst_0007',
    ]);
  });

  it('pages through records created in the same millisecond exactly once each', async () => {
    const sameTime = new Date(T0).toISOString();
    // More ties than one read covers, so the cursor has to skip past a full read of them.
    const tied = Array.from({ length: 40 }, (_, i) => record(i + 1, { createdAt: sameTime }));
    await repo.saveMany([...tied, record(50)]);
    for (const order of ['desc', 'asc'] as const) {
      const seen: string[] = [];
      let next: RecordPage['next'] = null;
      do {
        const p = await page({ order, limit: 3, start: next ? { after: next } : { offset: 0 } });
        seen.push(...ids(p));
        next = p.next;
      } while (next);
      const expected = ['inst_0050', ...tied.map((r) => r.id).reverse()];
      expect(seen).toEqual(order === 'desc' ? expected : [...expected].reverse());
    }
  });

  it('reads only the page’s records, in a constant number of round trips', async () => {
    const all = Array.from({ length: 1000 }, (_, i) => record(i + 1, { managed: i % 2 === 0 }));
    for (let i = 0; i < all.length; i += 250) await repo.saveMany(all.slice(i, i + 250));
    const probe = counting(store);
    const counted = new InstanceRepository(probe.store);

    const first = await new InstancePages(probe.store, counted).listPage({
      filter: {},
      order: 'desc',
      limit: 10,
      start: { offset: 0 },
    });
    expect(first.records).toHaveLength(10);
    expect(first.total).toBe(1000);
    const deep = await new InstancePages(probe.store, counted).listPage({
      filter: { managed: false },
      order: 'desc',
      limit: 10,
      start: { offset: 300 },
    });
    expect(deep.records[0].id).toBe('inst_0400');
    const byCursor = await new InstancePages(probe.store, counted).listPage({
      filter: {},
      order: 'desc',
      limit: 10,
      start: { after: first.next! },
    });
    expect(byCursor.records[0].id).toBe('inst_0990');

    expect(probe.recordsRead()).toBeLessThanOrEqual(30);
    expect(probe.calls).not.toContain('scanKeys');
    // Index-version check (first page only), range + count, records.
    expect(probe.calls.length).toBeLessThanOrEqual(1 + 3 * 3);
  });

  it('knows every record, deleted ones included, from the names index without a key scan', async () => {
    const all = Array.from({ length: 2500 }, (_, i) => record(i + 1));
    for (let i = 0; i < all.length; i += 500) await repo.saveMany(all.slice(i, i + 500));
    await repo.save(record(7, { status: 'deleted' }));
    const probe = counting(store);
    const counted = new InstanceRepository(probe.store);

    expect((await counted.allIds()).sort()).toEqual(all.map((r) => r.id));
    const listed = await counted.listAll();
    expect(listed.map((r) => r.id).sort()).toEqual(all.map((r) => r.id));
    expect(listed.find((r) => r.id === 'inst_0007')?.status).toBe('deleted');
    expect(probe.calls).not.toContain('scanKeys');
  });

  it('writes a record and all of its index entries in one round trip', async () => {
    const probe = counting(store);
    const counted = new InstanceRepository(probe.store);
    await counted.save(record(1));
    await counted.saveMany([record(2), record(3, { status: 'stopped' })]);
    expect(probe.calls).toEqual(['writeBatch', 'writeBatch']);
    expect(ids(await page())).toEqual(['inst_0003', 'inst_0002', 'inst_0001']);
  });

  it('lists records written before the indexes existed, then builds the indexes once', async () => {
    const prefix = harness.uniquePrefix();
    const old = harness.open(kind, prefix);
    // As the previous version wrote them: records only.
    await old.setMany(
      [record(1), record(2, { status: 'stopped' }), record(3)].map((r) => ({
        key: instanceKey(r.id),
        value: r,
      })),
    );
    const before = new InstanceRepository(old);
    const unindexed = await new InstancePages(old, before).listPage({
      filter: {},
      order: 'desc',
      limit: 1,
      start: { offset: 1 },
    });
    expect(ids(unindexed)).toEqual(['inst_0002']);
    expect(unindexed.total).toBe(3);

    expect(await before.buildIndexes()).toBe(3);
    expect(await old.get(INDEX_VERSION_KEY)).not.toBeNull();
    // Another replica (or a restart) sees the mark and does not rebuild.
    expect(await new InstanceRepository(harness.open(kind, prefix)).buildIndexes()).toBe(0);

    const probe = counting(old);
    const after = new InstanceRepository(probe.store);
    const listed = await new InstancePages(probe.store, after).listPage({
      filter: { status: 'stopped' },
      order: 'desc',
      limit: 10,
      start: { offset: 0 },
    });
    expect(ids(listed)).toEqual(['inst_0002']);
    expect(probe.calls).not.toContain('scanKeys');
  });
});
