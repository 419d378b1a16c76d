import { buildInstancesHarness, InstancesHarness } from '../../../test/fakes/instances-unit-harness';
import { NOVITA_LISTING_CACHE, NOVITA_LISTING_TTL_MS } from './novita-listing';

const options = { forceSync: false, handleObsoleteInstances: true, dryRun: false };

describe('NovitaListing', () => {
  let h: InstancesHarness;
  const pagesAsked = () => h.novita.callsTo('listInstances').length;

  beforeEach(() => {
    h = buildInstancesHarness();
    for (let i = 1; i <= 250; i++) h.novita.seed({ id: `nv${i}`, name: `n${i}`, status: 'running' });
  });

  it('walks once and serves the walk until NOVITA_LISTING_TTL_MS has passed', async () => {
    const t0 = Date.now();
    const first = (await h.listing.walk({ now: t0 })).instances;
    expect(first.map((i) => i.id)).toEqual([...h.novita.instances.keys()]);
    expect(pagesAsked()).toBe(3);

    h.novita.seed({ id: 'nv-new', name: 'new', status: 'running' });
    expect((await h.listing.walk({ now: t0 + NOVITA_LISTING_TTL_MS - 1 })).instances).toHaveLength(250);
    expect(pagesAsked()).toBe(3);

    expect((await h.listing.walk({ now: t0 + NOVITA_LISTING_TTL_MS })).instances).toHaveLength(251);
    expect(pagesAsked()).toBe(6);
    expect((await h.caches.stats()).find((s) => s.name === NOVITA_LISTING_CACHE)).toMatchObject({
      hits: 1,
      misses: 2,
    });
  });

  it('shares one walk between concurrent callers', async () => {
    const walks = await Promise.all([h.listing.walk(), h.listing.walk(), h.listing.walk()]);
    expect(walks.map((w) => w.instances.length)).toEqual([250, 250, 250]);
    expect(pagesAsked()).toBe(3);
  });

  it('walks again after a clear, and shows its entries in the cache stats', async () => {
    await h.listing.walk();
    expect((await h.caches.stats()).find((s) => s.name === NOVITA_LISTING_CACHE)?.entries).toBe(250);
    await h.caches.clear([NOVITA_LISTING_CACHE]);
    expect((await h.caches.stats()).find((s) => s.name === NOVITA_LISTING_CACHE)?.entries).toBe(0);
    await h.listing.walk();
    expect(pagesAsked()).toBe(6);
  });

  it('does not keep a walk that was started before a clear', async () => {
    const walk = h.listing.walk();
    await h.caches.clear([NOVITA_LISTING_CACHE]);
    await walk;
    await h.listing.walk();
    expect(pagesAsked()).toBe(6);
  });

  it('does not cache a failed walk', async () => {
    h.novita.failNext('listInstances');
    await expect(h.listing.walk()).rejects.toThrow();
    expect((await h.listing.walk()).instances).toHaveLength(250);
  });

  it('walks again when asked for a listing newer than the last walk', async () => {
    const t0 = Date.now();
    await h.listing.walk({ now: t0 });
    expect((await h.listing.walk({ now: t0 + 10, notBefore: t0 })).instances).toHaveLength(250);
    expect(pagesAsked()).toBe(3);
    await h.listing.walk({ now: t0 + 10, notBefore: t0 + 5 });
    expect(pagesAsked()).toBe(6);
  });

  it('does not serve a listing that predates a record created since (the comprehensive listing shows it merged)', async () => {
    await h.query.comprehensive({ syncLocalState: false, includeNovitaOnly: true });
    await new Promise((r) => setTimeout(r, 5)); // the create is stamped after the walk's start
    const created = await h.creator.create({
      name: 'fresh',
      productName: 'RTX 4090',
      templateId: 't1',
    } as never);
    const res = await h.query.comprehensive({ syncLocalState: false, includeNovitaOnly: true });
    expect(res.instances.find((i) => i.instanceId === created.instanceId)).toMatchObject({
      source: 'merged',
    });
  });

  it('reuses the walk of a sync pass: sync then the comprehensive listing walk Novita once', async () => {
    const res = await h.query.comprehensive({ syncLocalState: true, includeNovitaOnly: true });
    expect(res).toMatchObject({ novitaAvailable: true, sources: { novita: 250 } });
    // The sync pass adopted all 250; the listing merged them from the sync's own walk.
    expect(res.sources.merged).toBe(250);
    expect(pagesAsked()).toBe(3);
  });

  it('is filled by a sync pass but never consulted by one', async () => {
    await h.listing.walk();
    await h.sync.run('run_1', options);
    expect(pagesAsked()).toBe(6);
  });
});
