import { InstanceRepository } from '../../../src/modules/records/instance.repository';
import { InstanceRecord } from '../../../src/modules/records/instance.types';
import { SyncMarks } from '../../../src/modules/records/sync-marks';
import { ADAPTER_KINDS, sleep, StoreHarness } from '../store/store-harness';

/**
 * Sync marks across two replicas on one store. On Redis, marks, index entries and versions are read
 * through the process's copies: a record written on the other replica must still be read again.
 */
const harness = new StoreHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const record = (n: number, over: Partial<InstanceRecord> = {}): InstanceRecord =>
  ({
    id: `inst_${n}`,
    name: `job-${n}`,
    status: 'running',
    novitaInstanceId: `nov-${n}`,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  }) as InstanceRecord;

describe.each(ADAPTER_KINDS)('SyncMarks across replicas: %s store', (kind) => {
  it('skips a marked record until it is written, on this replica or another', async () => {
    const prefix = harness.uniquePrefix();
    const [storeA, storeB] = [harness.open(kind, prefix), harness.open(kind, prefix)];
    const [repoA, repoB] = [new InstanceRepository(storeA), new InstanceRepository(storeB)];
    const marksA = new SyncMarks(storeA);
    await repoA.saveMany([record(1), record(2)]);
    const nids = ['nov-1', 'nov-2'];

    // First pass: both read, then marked with the versions found.
    const first = await marksA.find(nids, ['fp', 'fp']);
    expect([...first.values()].map((f) => f.record?.id)).toEqual(['inst_1', 'inst_2']);
    await marksA.mark(
      [...first.entries()].map(([nid, f]) => ({
        novitaInstanceId: nid,
        id: f.id,
        version: f.version!,
        fingerprint: 'fp',
      })),
    );
    // Steady: nothing read, twice (the second time from the copies on Redis).
    for (let i = 0; i < 2; i++) {
      const steady = await marksA.find(nids, ['fp', 'fp']);
      expect([...steady.values()].map((f) => f.record)).toEqual([null, null]);
    }

    // The other replica writes record 2: the next find here reads it again, with its change.
    await repoB.save(record(2, { status: 'stopped' }));
    const deadline = Date.now() + 2000;
    let after = await marksA.find(nids, ['fp', 'fp']);
    while (after.get('nov-2')?.record === null && Date.now() < deadline) {
      await sleep(5);
      after = await marksA.find(nids, ['fp', 'fp']);
    }
    expect(after.get('nov-1')?.record).toBeNull();
    expect(after.get('nov-2')?.record).toMatchObject({ id: 'inst_2', status: 'stopped' });

    // A new fingerprint (Novita shows something else) reads the record too.
    const changed = await marksA.find(nids, ['other', 'fp']);
    expect(changed.get('nov-1')?.record).toMatchObject({ id: 'inst_1' });

    // This replica's own write is seen at once.
    await repoA.save(record(1, { status: 'stopped' }));
    expect((await marksA.find(nids, ['fp', 'fp'])).get('nov-1')?.record).toMatchObject({ status: 'stopped' });
  });
});
