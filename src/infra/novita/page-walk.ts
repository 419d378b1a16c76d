import { NovitaInstance } from './novita.types';

/** One page of Novita's instance list; `total` is null when Novita did not say (its docs example omits it). */
export interface WalkedPage {
  instances: NovitaInstance[];
  total: number | null;
}

/**
 * Every instance of a paged listing, in page order, each id once. Page 1 tells the total, so the
 * pages it implies are fetched `concurrency` at a time (a listing of 100 pages costs about
 * 100 / concurrency round trips instead of 100). Past them (the total grew during the walk, or
 * Novita gave none) pages are read one by one with the sequential walk's stop rules: a short
 * page, `total` reached, or a page of ids already seen (Novita ignoring pageNum). The first page
 * that fails fails the walk: a partial listing would look like missing instances.
 *
 * onPage, when given, is handed each page as it arrives, in no particular order (page 1 is handled
 * while the others are fetched), within the same `concurrency` bound: a caller that folds pages
 * into a store does so while the walk goes on. A rejection of onPage fails the walk like a failed
 * page. The walk settles only once every page it started has been fetched and handled.
 */
export async function walkPages(
  fetchPage: (pageNum: number) => Promise<WalkedPage>,
  pageSize: number,
  concurrency: number,
  onPage?: (page: WalkedPage, pageNum: number) => Promise<void>,
): Promise<NovitaInstance[]> {
  const fetchAndHandle = onPage
    ? async (pageNum: number): Promise<WalkedPage> => {
        const page = await fetchPage(pageNum);
        await onPage(page, pageNum);
        return page;
      }
    : fetchPage;
  // Ids already taken: an instance created mid-walk shifts later pages and would repeat an item.
  const seen = new Map<string, NovitaInstance>();
  let received = 0;
  /** Takes one page; true when it was the last. */
  const take = (page: WalkedPage): boolean => {
    received += page.instances.length;
    let fresh = 0;
    for (const instance of page.instances) {
      if (seen.has(instance.id)) continue;
      seen.set(instance.id, instance);
      fresh++;
    }
    return page.instances.length < pageSize || fresh === 0 || (page.total !== null && received >= page.total);
  };

  const first = await fetchPage(1);
  const handleFirst = async (): Promise<WalkedPage> => {
    if (onPage) await onPage(first, 1);
    return first;
  };
  let done = take(first);
  let next = 2;
  if (!done && first.total !== null) {
    const lastPage = Math.max(1, Math.ceil(first.total / pageSize));
    // Page 1 is handled while the pages it implies are fetched, not before they are asked for.
    const pageNums = Array.from({ length: lastPage }, (_, i) => i + 1);
    const pages = await mapBounded(pageNums, concurrency, (n) =>
      n === 1 ? handleFirst() : fetchAndHandle(n),
    );
    for (const page of pages.slice(1)) {
      next++;
      if ((done = take(page))) break;
    }
  } else await handleFirst();
  while (!done) done = take(await fetchAndHandle(next++));
  return [...seen.values()];
}

/**
 * fn over items with at most `limit` calls in flight; results in the order of items. After the first
 * rejection no further call is started, and the whole rejects with it once the calls already in
 * flight have settled: a caller's calls may write, and nothing of them should outlive the outcome
 * (a sync pass releases its lock when it settles).
 */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let nextIndex = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && nextIndex < items.length) {
      const i = nextIndex++;
      try {
        results[i] = await fn(items[i]);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  const workers = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failures.length > 0) throw failures[0];
  return results;
}
