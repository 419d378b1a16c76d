import { CacheRegistry, UnknownCacheError } from './cache-registry';
import { HttpWindow } from './http-stats';

describe(CacheRegistry.name, () => {
  function registryWith(...names: string[]) {
    const sut = new CacheRegistry();
    const held = new Map(names.map((n) => [n, 2]));
    for (const n of names) {
      sut.register({
        name: n,
        description: `${n} cache`,
        entries: () => held.get(n)!,
        sizeBytes: () => held.get(n)! * 100,
        clear: () => void held.set(n, 0),
      });
    }
    return { sut, held };
  }

  it('reports entries, hits, misses, hit ratio and size per cache', async () => {
    const { sut } = registryWith('clusters', 'templates');
    sut.hit('clusters');
    sut.hit('clusters');
    sut.hit('clusters');
    sut.miss('clusters');
    expect(await sut.stats()).toEqual([
      {
        name: 'clusters',
        description: 'clusters cache',
        entries: 2,
        hits: 3,
        misses: 1,
        hitRatio: 0.75,
        sizeBytes: 200,
      },
      {
        name: 'templates',
        description: 'templates cache',
        entries: 2,
        hits: 0,
        misses: 0,
        hitRatio: 0,
        sizeBytes: 200,
      },
    ]);
  });

  it('clears only the named caches, or all when none are named', async () => {
    const { sut, held } = registryWith('clusters', 'templates');
    expect(await sut.clear(['templates'])).toEqual(['templates']);
    expect([...held]).toEqual([
      ['clusters', 2],
      ['templates', 0],
    ]);
    expect(await sut.clear()).toEqual(['clusters', 'templates']);
    expect(held.get('clusters')).toBe(0);
  });

  it('rejects an unknown name before clearing anything', async () => {
    const { sut, held } = registryWith('clusters');
    await expect(sut.clear(['clusters', 'everything'])).rejects.toThrow(UnknownCacheError);
    expect(held.get('clusters')).toBe(2);
  });
});

describe(HttpWindow.name, () => {
  it('counts only the last 60 seconds and treats 5xx as errors', () => {
    let now = 1_000_000;
    const sut = new HttpWindow(() => now);
    sut.record(200, 0.1);
    sut.record(404, 0.1);
    now += 30_000;
    sut.record(500, 0.4);
    expect(sut.lastMinute()).toEqual({ requestsPerMinute: 3, averageResponseTimeMs: 200, errorRate: 0.3333 });
    now += 31_000;
    expect(sut.lastMinute()).toEqual({ requestsPerMinute: 1, averageResponseTimeMs: 400, errorRate: 1 });
    now += 60_000;
    expect(sut.lastMinute()).toEqual({ requestsPerMinute: 0, averageResponseTimeMs: 0, errorRate: 0 });
  });
});
