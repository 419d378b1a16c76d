import { buildInstancesHarness, InstancesHarness } from '../../../test/fakes/instances-unit-harness';
import { InstanceRecord } from '../records/instance.types';

const DAY = 24 * 3600_000;
const options = { forceSync: false, handleObsoleteInstances: true, dryRun: false };

describe('SyncService obsolete policy', () => {
  let h: InstancesHarness;

  async function tracked(name: string, patch: Partial<InstanceRecord> = {}): Promise<InstanceRecord> {
    const res = await h.creator.create({ name, productName: 'RTX 4090', templateId: 't1' } as never);
    h.novita.setStatus(res.novitaInstanceId, 'running');
    await h.reconciler.reconcileOnce(Date.now() + 700_000);
    const record = { ...(await h.repo.get(res.instanceId))!, ...patch };
    await h.repo.save(record);
    return record;
  }

  beforeEach(() => {
    h = buildInstancesHarness();
  });

  it('marks an instance Novita no longer has as terminated, with terminatedAt, after confirming with a GET', async () => {
    const r = await tracked('gone');
    h.novita.instances.delete(r.novitaInstanceId!);
    const report = await h.sync.run('run_1', options);
    expect(report).toMatchObject({ markedObsolete: 1, instancesRemoved: 0 });
    expect(h.novita.callsTo('getInstance').some((c) => c.args[0] === r.novitaInstanceId)).toBe(true);
    const after = await h.repo.get(r.id);
    expect(after).toMatchObject({ status: 'terminated', terminatedAt: expect.any(String) });
    expect(h.emitter.types().filter((t) => t === 'instance.terminated')).toHaveLength(1);
  });

  it('counts retention from terminatedAt, not from creation', async () => {
    const now = Date.now();
    // Created long ago, terminated yesterday: kept (7-day retention).
    const recent = await tracked('recent', {
      createdAt: new Date(now - 30 * DAY).toISOString(),
      status: 'terminated',
      terminatedAt: new Date(now - 1 * DAY).toISOString(),
    });
    // Terminated 8 days ago: removed.
    const old = await tracked('old', {
      status: 'terminated',
      terminatedAt: new Date(now - 8 * DAY).toISOString(),
    });
    h.novita.instances.delete(recent.novitaInstanceId!);
    h.novita.instances.delete(old.novitaInstanceId!);
    const report = await h.sync.run('run_2', options);
    expect(report.instancesRemoved).toBe(1);
    expect(await h.repo.get(recent.id)).toMatchObject({ status: 'terminated' });
    expect(await h.repo.get(old.id)).toBeNull();
    expect(h.emitter.types().filter((t) => t === 'instance.removed')).toHaveLength(1);
  });

  it('never counts a Novita error as absence', async () => {
    const r = await tracked('flaky');
    h.novita.instances.delete(r.novitaInstanceId!);
    h.novita.failNext('getInstance');
    const report = await h.sync.run('run_3', options);
    expect(report.markedObsolete).toBe(0);
    expect(report.errors).toHaveLength(1);
    expect((await h.repo.get(r.id))?.status).not.toBe('terminated');
  });

  it('judges the records the store held when the pass started; one written during the walk waits for the next pass', async () => {
    const late = await tracked('late');
    h.novita.instances.delete(late.novitaInstanceId!);
    await h.repo.remove(late);
    for (let i = 1; i <= 150; i++) h.novita.seed({ id: `listed-${i}`, name: `n${i}`, status: 'running' });
    const list = h.novita.listInstances.bind(h.novita);
    // The record reappears while page 2 is asked for, after the pass read which records exist.
    h.novita.listInstances = async (pageNum, pageSize, filter) => {
      if (pageNum === 2) await h.repo.save(late);
      return list(pageNum, pageSize, filter);
    };
    expect(await h.sync.run('run_a', options)).toMatchObject({ markedObsolete: 0, adopted: 150 });
    expect((await h.repo.get(late.id))?.status).toBe(late.status);

    h.novita.listInstances = list;
    expect(await h.sync.run('run_b', options)).toMatchObject({ markedObsolete: 1 });
    expect((await h.repo.get(late.id))?.status).toBe('terminated');
  });

  it('removes instead of marking when SYNC_REMOVE_OBSOLETE_INSTANCES=true', async () => {
    h = buildInstancesHarness({ SYNC_REMOVE_OBSOLETE_INSTANCES: 'true' });
    const r = await tracked('removed');
    h.novita.instances.delete(r.novitaInstanceId!);
    const report = await h.sync.run('run_4', options);
    expect(report).toMatchObject({ instancesRemoved: 1, markedObsolete: 0 });
    expect(await h.repo.get(r.id)).toBeNull();
    expect(await h.repo.findByName('removed')).toBeNull();
  });

  it('adopts unknown instances as unmanaged, counting them once and asking Novita nothing more', async () => {
    h.novita.seed({ id: 'nv-a', name: 'found-a', status: 'running' });
    h.novita.seed({ id: 'nv-b', name: 'found-b', status: 'exited' });
    const report = await h.sync.run('run_7', options);
    expect(report).toMatchObject({
      adopted: 2,
      beforeSync: 0,
      afterSync: 2,
      localInstances: 0,
      markedObsolete: 0,
    });
    expect(h.novita.callsTo('getInstance')).toHaveLength(0);
    const found = await h.repo.findByName('found-a');
    expect(found).toMatchObject({
      managed: false,
      origin: 'novita',
      novitaInstanceId: 'nv-a',
      status: 'running',
    });
    const again = await h.sync.run('run_8', options);
    expect(again).toMatchObject({ adopted: 0, beforeSync: 2, afterSync: 2, mergedInstances: 2, updated: 0 });
  });

  it('walks several pages, adopting an instance a shifted page repeats only once', async () => {
    for (let i = 1; i <= 250; i++) h.novita.seed({ id: `nv-${i}`, name: `n-${i}`, status: 'running' });
    const list = h.novita.listInstances.bind(h.novita);
    // An instance created mid-walk shifts page 2 by one: its first item is page 1's last.
    jest.spyOn(h.novita, 'listInstances').mockImplementation(async (pageNum, pageSize, filter) => {
      const page = await list(pageNum, pageSize, filter);
      if (pageNum !== 2) return page;
      const repeated = h.novita.instances.get('nv-100')!;
      return { ...page, instances: [repeated, ...page.instances.slice(0, -1)] };
    });
    const report = await h.sync.run('run_9', options);
    expect(report).toMatchObject({ pages: 3, adopted: 249, novitaInstances: 249 });
    const records = await h.repo.listAll();
    expect(new Set(records.map((r) => r.novitaInstanceId)).size).toBe(records.length);
  });

  /** The record keys asked of the store by getMany calls (not the indexes, versions or marks). */
  const recordReads = (spy: jest.SpyInstance): string[] =>
    spy.mock.calls.flatMap(([keys]: [string[]]) => keys.filter((k) => k.startsWith('instance:')));

  it('reads no record and writes nothing on a steady pass once the records are marked', async () => {
    for (let i = 1; i <= 250; i++) h.novita.seed({ id: `nv-${i}`, name: `n-${i}`, status: 'running' });
    await h.sync.run('run_10', options); // adopts
    const marking = jest.spyOn(h.store, 'writeBatch');
    expect(await h.sync.run('run_11', options)).toMatchObject({ unchanged: 250, updated: 0 });
    // One batch of marks per page: nothing else is written.
    expect(marking).toHaveBeenCalledTimes(3);
    marking.mockClear();
    const reads = jest.spyOn(h.store, 'getMany');
    const report = await h.sync.run('run_12', options);
    expect(report).toMatchObject({ pages: 3, mergedInstances: 250, unchanged: 250, updated: 0 });
    expect(reads.mock.calls.length).toBeLessThanOrEqual(2 * report.pages);
    expect(recordReads(reads)).toEqual([]);
    expect(marking).not.toHaveBeenCalled();
  });

  it('reads a marked record again once something else wrote it, and folds the observation into it', async () => {
    const record = await tracked('rewritten');
    await h.sync.run('run_20', options);
    await h.sync.run('run_21', options); // marks it
    // Written by another hand while Novita still says running: the mark no longer holds.
    await h.repo.save({ ...(await h.repo.get(record.id))!, status: 'stopped', novitaStatus: 'exited' });
    const reads = jest.spyOn(h.store, 'getMany');
    const report = await h.sync.run('run_22', options);
    expect(recordReads(reads)).toContain(`instance:${record.id}`);
    expect(report.updated).toBe(1);
    expect((await h.repo.get(record.id))!.status).toBe('running');
  });

  it('reads a marked record again when Novita shows it differently', async () => {
    const record = await tracked('changed-on-novita');
    await h.sync.run('run_30', options);
    await h.sync.run('run_31', options); // marks it
    h.novita.setStatus(record.novitaInstanceId!, 'exited');
    const report = await h.sync.run('run_32', options);
    expect(report.updated).toBe(1);
    expect((await h.repo.get(record.id))!.status).toBe('stopped');
  });

  it('gives a record written before versions existed one version (not counted as updated), then marks it', async () => {
    const record = await tracked('legacy');
    await h.sync.run('run_39', options);
    await h.store.delete(`record-version:${record.id}`);
    const first = await h.sync.run('run_40', options);
    expect(first).toMatchObject({ updated: 0, unchanged: 1 });
    expect(await h.store.get(`record-version:${record.id}`)).toEqual(expect.any(String));
    await h.sync.run('run_41', options); // marks it
    const reads = jest.spyOn(h.store, 'getMany');
    expect(await h.sync.run('run_42', options)).toMatchObject({ updated: 0, unchanged: 1 });
    expect(recordReads(reads)).toEqual([]);
  });

  it('writes nothing on a pass that changes nothing', async () => {
    await tracked('steady');
    await h.sync.run('run_5', options);
    await h.sync.run('run_6', options); // marks it
    const writes = jest.spyOn(h.store, 'setMany');
    const batches = jest.spyOn(h.store, 'writeBatch');
    const set = jest.spyOn(h.store, 'set');
    const report = await h.sync.run('run_7', options);
    expect(report.updated).toBe(0);
    expect(writes).not.toHaveBeenCalled();
    expect(batches).not.toHaveBeenCalled();
    expect(set).not.toHaveBeenCalled();
  });

  it('marks nothing on a dry run', async () => {
    await tracked('dry');
    await h.sync.run('run_50', options);
    const batches = jest.spyOn(h.store, 'writeBatch');
    await h.sync.run('run_51', { ...options, dryRun: true });
    expect(batches).not.toHaveBeenCalled();
  });
});
