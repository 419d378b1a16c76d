import { buildInstancesHarness, InstancesHarness } from '../../../test/fakes/instances-unit-harness';
import { AppError, ErrorCode } from '../../common/errors';
import { recordFromNovita } from '../records/instance-observation';
import { toInstanceResponse } from '../records/instance.mapper';
import { InstanceRecord, newInstanceId } from '../records/instance.types';
import { OBSERVED_STATUS_CACHE, InstanceQueryService } from './instance-query.service';
import { InstanceRefresher } from './instance-refresher';

const WINDOW_MS = 30_000;

describe('InstanceQueryService.get (stale-while-revalidate)', () => {
  let h: InstancesHarness;

  beforeEach(() => {
    h = buildInstancesHarness({ INSTANCE_CACHE_STALE_MS: String(WINDOW_MS) });
  });

  /** A record of a Novita instance, last observed `ageMs` ago with status exited; Novita now says running. */
  async function observed(ageMs: number): Promise<InstanceRecord> {
    const inst = h.novita.seed({
      id: `nv-${Math.random().toString(16).slice(2, 10)}`,
      name: 'n',
      status: 'exited',
    });
    const record = recordFromNovita(newInstanceId(), inst, new Date(Date.now() - ageMs));
    await h.repo.save(record);
    h.novita.setStatus(inst.id, 'running');
    return record;
  }

  const getCalls = (novitaId: string) =>
    h.novita.callsTo('getInstance').filter((c) => c.args[0] === novitaId).length;

  it('serves a fresh record without asking Novita', async () => {
    const r = await observed(1_000);
    const res = await h.query.get(r.id);
    expect(res).toMatchObject({ stale: false, status: 'stopped', ageMs: expect.any(Number) });
    expect(res.ageMs).toBeGreaterThanOrEqual(1_000);
    expect(getCalls(r.novitaInstanceId!)).toBe(0);
    expect((await h.caches.stats()).find((s) => s.name === OBSERVED_STATUS_CACHE)).toMatchObject({
      hits: 1,
      misses: 0,
    });
  });

  describe('answerJsonAtOnce (served before Fastify and Nest)', () => {
    it('answers a fresh record by either id with the JSON of get’s answer, without a Novita call', async () => {
      const r = await observed(1_000);
      const now = Date.now();
      const inline = h.query.answerJsonAtOnce(r.id, now);
      expect(inline).toBe(JSON.stringify(await h.query.get(r.id, new Date(now))));
      expect(h.query.answerJsonAtOnce(r.novitaInstanceId!, now)).toBe(inline);
      expect(JSON.parse(inline!)).toMatchObject({
        stale: false,
        status: 'stopped',
        ageMs: expect.any(Number),
      });
      expect(getCalls(r.novitaInstanceId!)).toBe(0);
    });

    it('builds the JSON once per frozen copy (the read cache’s), with the age of each read, and anew for a replaced copy', async () => {
      const r = await observed(1_000);
      const copy = Object.freeze({ ...r, portMappings: Object.freeze([...r.portMappings]) });
      const peek = jest.spyOn(h.repo, 'peekForRead').mockReturnValue(copy as InstanceRecord);
      const stringify = jest.spyOn(JSON, 'stringify');
      const synced = Date.parse(r.lastSyncedAt!);
      const first = h.query.answerJsonAtOnce(r.id, synced + 10);
      const second = h.query.answerJsonAtOnce(r.id, synced + 25);
      const objectsSerialized = () => stringify.mock.calls.filter(([v]) => typeof v === 'object').length;
      expect(objectsSerialized()).toBe(1);
      expect(JSON.parse(first!)).toEqual(toInstanceResponse(r, { stale: false, ageMs: 10 }));
      expect(second).toBe(JSON.stringify(toInstanceResponse(r, { stale: false, ageMs: 25 })));

      peek.mockReturnValue(Object.freeze({ ...copy, name: 'renamed' }) as InstanceRecord);
      expect(JSON.parse(h.query.answerJsonAtOnce(r.id, synced + 30)!)).toMatchObject({
        name: 'renamed',
        ageMs: 30,
      });
      stringify.mockRestore();
    });

    it('has no answer for a stale record, an unknown id or a store that would need a round trip; get answers those', async () => {
      const stale = await observed(WINDOW_MS + 5_000);
      expect(h.query.answerJsonAtOnce(stale.id)).toBeUndefined();
      expect(h.query.answerJsonAtOnce('inst_unknown')).toBeUndefined();
      const fresh = await observed(1_000);
      jest.spyOn(h.store, 'peekCached').mockReturnValue(undefined);
      expect(h.query.answerJsonAtOnce(fresh.id)).toBeUndefined();
      expect(getCalls(stale.novitaInstanceId!)).toBe(0);
      await expect(h.query.get(fresh.id)).resolves.toMatchObject({ stale: false });
    });
  });

  it('answers a stale record from the store with its age, then refreshes it in the background', async () => {
    const r = await observed(WINDOW_MS + 5_000);
    const res = await h.query.get(r.id);
    expect(res).toMatchObject({ stale: true, status: 'stopped', lastSyncedAt: r.lastSyncedAt });
    expect(res.ageMs).toBeGreaterThanOrEqual(WINDOW_MS + 5_000);

    await h.refresher.settled();
    expect(getCalls(r.novitaInstanceId!)).toBe(1);
    expect(await h.repo.get(r.id)).toMatchObject({ status: 'running', novitaStatus: 'running' });
    const next = await h.query.get(r.id);
    expect(next).toMatchObject({ stale: false, status: 'running' });
    expect(getCalls(r.novitaInstanceId!)).toBe(1);
    expect((await h.caches.stats()).find((s) => s.name === OBSERVED_STATUS_CACHE)).toMatchObject({
      hits: 1,
      misses: 1,
    });
  });

  it('answers without waiting for Novita', async () => {
    const r = await observed(WINDOW_MS + 5_000);
    h.novita.getInstance = () => new Promise(() => undefined); // Novita never answers
    await expect(h.query.get(r.id)).resolves.toMatchObject({ stale: true, status: 'stopped' });
  });

  it('makes one Novita call for ten concurrent readers of a stale record', async () => {
    const r = await observed(WINDOW_MS + 5_000);
    const answers = await Promise.all(Array.from({ length: 10 }, () => h.query.get(r.id)));
    expect(answers.every((a) => a.stale === true)).toBe(true);
    await h.refresher.settled();
    expect(getCalls(r.novitaInstanceId!)).toBe(1);
  });

  it('makes one Novita call for readers on two replicas sharing the store', async () => {
    const r = await observed(WINDOW_MS + 5_000);
    const otherRefresher = new InstanceRefresher(h.repo, h.novita, h.store, h.configService);
    const other = new InstanceQueryService(
      h.repo,
      h.pages,
      otherRefresher,
      h.listing,
      h.syncJob,
      h.configService,
    );
    await Promise.all([
      ...Array.from({ length: 5 }, () => h.query.get(r.id)),
      ...Array.from({ length: 5 }, () => other.get(r.id)),
    ]);
    await Promise.all([h.refresher.settled(), otherRefresher.settled()]);
    expect(getCalls(r.novitaInstanceId!)).toBe(1);
  });

  it('does not ask again about an observation whose refresh failed, within the window', async () => {
    const r = await observed(WINDOW_MS + 5_000);
    h.novita.failNext('getInstance');
    await expect(h.query.get(r.id)).resolves.toMatchObject({ stale: true });
    await h.refresher.settled();
    await expect(h.query.get(r.id)).resolves.toMatchObject({ stale: true, status: 'stopped' });
    await h.refresher.settled();
    expect(getCalls(r.novitaInstanceId!)).toBe(1);
  });

  it('marks the record terminated in the background when Novita no longer has the instance', async () => {
    const r = await observed(WINDOW_MS + 5_000);
    h.novita.instances.delete(r.novitaInstanceId!);
    await expect(h.query.get(r.id)).resolves.toMatchObject({ stale: true, status: 'stopped' });
    await h.refresher.settled();
    expect(await h.repo.get(r.id)).toMatchObject({ status: 'terminated', terminatedAt: expect.any(String) });
  });

  it('treats a fresh record as stale after a cache clear, and refreshes it', async () => {
    const r = await observed(1_000);
    await h.caches.clear([OBSERVED_STATUS_CACHE]);
    await expect(h.query.get(r.id)).resolves.toMatchObject({ stale: true, status: 'stopped' });
    await h.refresher.settled();
    expect(getCalls(r.novitaInstanceId!)).toBe(1);
    await expect(h.query.get(r.id)).resolves.toMatchObject({ stale: false, status: 'running' });
  });

  it('elects a refresher per observation: after a refresh landed, a cache clear leads to a new refresh', async () => {
    const r = await observed(WINDOW_MS + 5_000);
    await h.query.get(r.id);
    await h.refresher.settled();
    await new Promise((done) => setTimeout(done, 5)); // the clear comes after the refreshed observation
    await h.caches.clear([OBSERVED_STATUS_CACHE]);
    await expect(h.query.get(r.id)).resolves.toMatchObject({ stale: true, status: 'running' });
    await h.refresher.settled();
    expect(getCalls(r.novitaInstanceId!)).toBe(2);
  });

  it('fetches an id only Novita knows once for all concurrent callers', async () => {
    const inst = h.novita.seed({ id: 'nv-foreign', name: 'elsewhere', status: 'running' });
    const answers = await Promise.all(Array.from({ length: 10 }, () => h.query.get(inst.id)));
    expect(answers.every((a) => a.managed === false && a.name === 'elsewhere')).toBe(true);
    expect(getCalls(inst.id)).toBe(1);
    await expect(h.query.get('nv-unknown')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
  });

  it('with INSTANCE_CACHE_STALE_MS=0 waits for Novita on every read, and serves the record when Novita is down', async () => {
    h = buildInstancesHarness({ INSTANCE_CACHE_STALE_MS: '0' });
    const r = await observed(1_000);
    await expect(h.query.get(r.id)).resolves.toMatchObject({ stale: false, status: 'running', ageMs: 0 });
    h.novita.failNext('getInstance', new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, 'down'));
    await expect(h.query.get(r.id)).resolves.toMatchObject({ stale: true, status: 'running' });
    expect(getCalls(r.novitaInstanceId!)).toBe(2);
  });
});
