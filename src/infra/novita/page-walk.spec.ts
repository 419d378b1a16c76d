import { NovitaInstance } from './novita.types';
import { WalkedPage, mapBounded, walkPages } from './page-walk';

const inst = (id: string) => ({ id }) as NovitaInstance;
const ids = (list: NovitaInstance[]) => list.map((i) => i.id);

/** A listing of `count` instances i1..iN, paged like Novita; records every page asked and the peak in flight. */
function listing(count: number, opts: { pageSize: number; totalKnown?: boolean; failPage?: number }) {
  const all = Array.from({ length: count }, (_, i) => inst(`i${i + 1}`));
  const asked: number[] = [];
  let inFlight = 0;
  let peak = 0;
  const fetchPage = async (pageNum: number): Promise<WalkedPage> => {
    asked.push(pageNum);
    inFlight++;
    peak = Math.max(peak, inFlight);
    // Later pages answer sooner, so out-of-order completion is exercised.
    await new Promise((r) => setTimeout(r, Math.max(0, 20 - pageNum)));
    inFlight--;
    if (pageNum === opts.failPage) throw new Error(`page ${pageNum} failed`);
    const start = (pageNum - 1) * opts.pageSize;
    return {
      instances: all.slice(start, start + opts.pageSize),
      total: opts.totalKnown === false ? null : all.length,
    };
  };
  return { all, asked, fetchPage, peak: () => peak };
}

describe('walkPages', () => {
  it('returns every instance in page order, each page asked once, never more than the limit in flight', async () => {
    const l = listing(95, { pageSize: 10 });
    const result = await walkPages(l.fetchPage, 10, 3);
    expect(ids(result)).toEqual(ids(l.all));
    expect([...l.asked].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(l.peak()).toBe(3);
  });

  it('asks pages concurrently once the first page told the total', async () => {
    const l = listing(100, { pageSize: 10 });
    await walkPages(l.fetchPage, 10, 4);
    expect(l.peak()).toBe(4);
  });

  it('walks one page at a time when Novita gives no total, stopping at the short page', async () => {
    const l = listing(25, { pageSize: 10, totalKnown: false });
    const result = await walkPages(l.fetchPage, 10, 5);
    expect(ids(result)).toEqual(ids(l.all));
    expect(l.asked).toEqual([1, 2, 3]);
    expect(l.peak()).toBe(1);
  });

  it('keeps reading past the announced total while pages come back full (instances created mid-walk)', async () => {
    const all = Array.from({ length: 30 }, (_, i) => inst(`i${i + 1}`));
    const asked: number[] = [];
    // Page 1 announces 20; later pages see 30.
    const fetchPage = async (n: number): Promise<WalkedPage> => {
      asked.push(n);
      return { instances: all.slice((n - 1) * 10, n * 10), total: n === 1 ? 20 : 30 };
    };
    const result = await walkPages(fetchPage, 10, 4);
    expect(ids(result)).toEqual(ids(all));
    // Pages 1-2 were announced; page 3 was read after them and reached the new total.
    expect(asked).toEqual([1, 2, 3]);
  });

  it('drops repeated ids and stops when Novita ignores pageNum', async () => {
    const page = [inst('a'), inst('b')];
    const fetchPage = async (): Promise<WalkedPage> => ({ instances: page, total: null });
    expect(ids(await walkPages(fetchPage, 2, 3))).toEqual(['a', 'b']);
  });

  it('fails the walk when a page fails and starts no page after the failure', async () => {
    const l = listing(200, { pageSize: 10, failPage: 3 });
    await expect(walkPages(l.fetchPage, 10, 2)).rejects.toThrow('page 3 failed');
    expect(l.asked.length).toBeLessThan(20);
  });

  it('fails when the first page fails', async () => {
    const l = listing(50, { pageSize: 10, failPage: 1 });
    await expect(walkPages(l.fetchPage, 10, 2)).rejects.toThrow('page 1 failed');
    expect(l.asked).toEqual([1]);
  });
});

describe('walkPages with a page handler', () => {
  it('hands every page over once as it arrives, within the concurrency bound, and still returns page order', async () => {
    const l = listing(95, { pageSize: 10 });
    const handled: number[] = [];
    let busy = 0;
    let peak = 0;
    const result = await walkPages(l.fetchPage, 10, 3, async (page, pageNum) => {
      busy++;
      peak = Math.max(peak, busy);
      await new Promise((r) => setTimeout(r, 1));
      handled.push(pageNum);
      expect(page.instances[0].id).toBe(`i${(pageNum - 1) * 10 + 1}`);
      busy--;
    });
    expect(ids(result)).toEqual(ids(l.all));
    expect([...handled].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('asks for the other pages while page 1 is being handled, not after', async () => {
    const l = listing(50, { pageSize: 10 });
    let askedWhileFirstHandled: number[] = [];
    await walkPages(l.fetchPage, 10, 3, async (_page, pageNum) => {
      if (pageNum !== 1) return;
      // Page 1's handler waits for the fetches it should not hold up.
      await new Promise((r) => setTimeout(r, 40));
      askedWhileFirstHandled = [...l.asked];
    });
    expect(askedWhileFirstHandled).toEqual(expect.arrayContaining([1, 2, 3]));
  });

  it.each([1, 3])(
    'fails the walk when the handler of page %i fails, once every page in flight has been handled',
    async (failing) => {
      const l = listing(200, { pageSize: 10 });
      let inFlight = 0;
      const walk = walkPages(l.fetchPage, 10, 4, async (_page, pageNum) => {
        inFlight++;
        await new Promise((r) => setTimeout(r, pageNum === failing ? 0 : 5));
        inFlight--;
        if (pageNum === failing) throw new Error('store down');
      });
      await expect(walk).rejects.toThrow('store down');
      // Pages fetched alongside the failing one were still being handled: the walk waited for them.
      expect(inFlight).toBe(0);
      expect(l.asked.length).toBeLessThan(20);
    },
  );
});

describe('mapBounded', () => {
  it('rejects with the first failure only once the calls in flight have settled', async () => {
    const finished: number[] = [];
    const run = mapBounded([1, 2, 3, 4, 5], 3, async (n) => {
      await new Promise((r) => setTimeout(r, n === 1 ? 0 : 10));
      finished.push(n);
      if (n === 1) throw new Error('first failed');
      return n;
    });
    await expect(run).rejects.toThrow('first failed');
    // 2 and 3 were in flight when 1 failed; 4 and 5 were never started.
    expect([...finished].sort()).toEqual([1, 2, 3]);
  });

  it('keeps the order of the items whatever order the calls finish in', async () => {
    const out = await mapBounded([30, 10, 20, 0], 2, async (ms) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms * 2;
    });
    expect(out).toEqual([60, 20, 40, 0]);
  });

  it('handles no items', async () => {
    expect(await mapBounded([], 3, async (x: number) => x)).toEqual([]);
  });
});
