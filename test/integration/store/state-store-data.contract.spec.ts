import { StateStore } from '../../../src/infra/store/state-store';
import { ADAPTER_KINDS, sleep, StoreHarness } from './store-harness';

/** The data half of the StateStore contract, run unchanged against every adapter. */
const harness = new StoreHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

describe.each(ADAPTER_KINDS)('StateStore contract (data): %s adapter', (kind) => {
  let store: StateStore;
  let prefix: string;

  beforeEach(() => {
    prefix = harness.uniquePrefix();
    store = harness.open(kind, prefix);
  });

  it('reports its kind', () => {
    expect(store.kind).toBe(kind);
  });

  describe('values', () => {
    it('should round-trip JSON values and return copies', async () => {
      const record = { id: 'i-1', tags: ['a', 'b'], nested: { n: 1.5, ok: true } };
      await store.set('instance:i-1', record);
      await store.set('text', 'héllo ✓');
      await store.set('number', 42);

      const read = await store.get<typeof record>('instance:i-1');
      expect(read).toEqual(record);
      read!.tags.push('mutated');
      expect(await store.get('instance:i-1')).toEqual(record);
      expect(await store.get('text')).toBe('héllo ✓');
      expect(await store.get('number')).toBe(42);
      expect(await store.get('missing')).toBeNull();
    });

    it('should only set when absent if asked to', async () => {
      expect(await store.set('k', 'first', { onlyIfAbsent: true })).toBe(true);
      expect(await store.set('k', 'second', { onlyIfAbsent: true })).toBe(false);
      expect(await store.get('k')).toBe('first');
      expect(await store.set('k', 'third')).toBe(true);
      expect(await store.get('k')).toBe('third');
    });

    it('should delete keys and count only the ones that existed', async () => {
      await store.set('a', 1);
      await store.set('b', 2);
      expect(await store.delete('a', 'b', 'never-set')).toBe(2);
      expect(await store.get('a')).toBeNull();
      expect(await store.delete()).toBe(0);
    });
  });

  describe('TTL', () => {
    it('should expire a value after its TTL and report the remaining time before that', async () => {
      await store.set('short', 'v', { ttlMs: 200 });
      await store.set('forever', 'v');
      const remaining = await store.ttl('short');
      expect(remaining).toBeGreaterThan(0);
      expect(remaining).toBeLessThanOrEqual(200);
      expect(await store.ttl('forever')).toBe(-1);
      expect(await store.ttl('missing')).toBe(-2);

      await sleep(350);
      expect(await store.get('short')).toBeNull();
      expect(await store.ttl('short')).toBe(-2);
      expect(await store.get('forever')).toBe('v');
    });

    it('should let an expired onlyIfAbsent key be set again', async () => {
      await store.set('once', 1, { ttlMs: 100, onlyIfAbsent: true });
      expect(await store.set('once', 2, { onlyIfAbsent: true })).toBe(false);
      await sleep(250);
      expect(await store.set('once', 3, { onlyIfAbsent: true })).toBe(true);
      expect(await store.get('once')).toBe(3);
    });
  });

  describe('batches', () => {
    it('should read many keys in order with nulls for missing ones', async () => {
      await store.setMany<unknown>([
        { key: 'b:1', value: { n: 1 } },
        { key: 'b:2', value: 'two' },
        { key: 'b:3', value: [3] },
      ]);
      expect(await store.getMany(['b:3', 'missing', 'b:1', 'b:2'])).toEqual([[3], null, { n: 1 }, 'two']);
      expect(await store.getMany([])).toEqual([]);
    });

    it('should apply each entry’s own TTL in a batch write', async () => {
      await store.setMany([
        { key: 'short', value: 's', ttlMs: 150 },
        { key: 'long', value: 'l' },
      ]);
      expect(await store.ttl('short')).toBeGreaterThan(0);
      expect(await store.ttl('long')).toBe(-1);
      await sleep(300);
      expect(await store.getMany(['short', 'long'])).toEqual([null, 'l']);
    });

    if (kind === 'upstash') {
      it('should send a whole batch as one HTTP request', async () => {
        const keys = Array.from({ length: 25 }, (_, i) => `rt:${i}`);
        const before = harness.bridgeRequests();
        await store.setMany(keys.map((key, i) => ({ key, value: i, ttlMs: i % 2 ? 60_000 : undefined })));
        expect(harness.bridgeRequests() - before).toBe(1);
        const values = await store.getMany<number>(keys);
        expect(harness.bridgeRequests() - before).toBe(2);
        expect(values).toEqual(keys.map((_, i) => i));
      });
    }

    if (kind === 'redis') {
      it('should read a batch with one MGET instead of one GET per key', async () => {
        const keys = Array.from({ length: 25 }, (_, i) => `rt:${i}`);
        await store.setMany(keys.map((key, i) => ({ key, value: i })));
        const before = await harness.commandCalls();
        expect(await store.getMany<number>(keys)).toEqual(keys.map((_, i) => i));
        const after = await harness.commandCalls();
        expect((after.mget ?? 0) - (before.mget ?? 0)).toBe(1);
        expect((after.get ?? 0) - (before.get ?? 0)).toBe(0);
      });
    }
  });

  describe('scanKeys', () => {
    it('should return the logical keys under a prefix, without expired or internal keys', async () => {
      await store.setMany([
        { key: 'inst:a', value: 1 },
        { key: 'inst:b', value: 2 },
        { key: 'op:a', value: 3 },
        { key: 'inst:gone', value: 4, ttlMs: 100 },
      ]);
      const lease = await store.acquireLease('scan-leader', 5000);
      expect(lease).not.toBeNull();
      await sleep(200);
      await store.withMutex('inst:c', async () => {
        expect((await store.scanKeys('inst:')).sort()).toEqual(['inst:a', 'inst:b']);
        expect((await store.scanKeys('')).sort()).toEqual(['inst:a', 'inst:b', 'op:a']);
      });
      expect(await store.scanKeys('nothing:')).toEqual([]);
    });

    it('should treat glob characters in the prefix literally', async () => {
      await store.setMany([
        { key: 'we*ird[1]?', value: 1 },
        { key: 'weXird[1]?', value: 2 },
        { key: 'we*ird\\x', value: 3 },
      ]);
      expect(await store.scanKeys('we*ird[')).toEqual(['we*ird[1]?']);
      expect(await store.scanKeys('we*ird\\')).toEqual(['we*ird\\x']);
    });

    it('should find every key when there are more than one scan page', async () => {
      const keys = Array.from({ length: 2500 }, (_, i) => `many:${i}`);
      await store.setMany(keys.map((key) => ({ key, value: true })));
      const found = await store.scanKeys('many:');
      expect(found).toHaveLength(2500);
      expect(new Set(found)).toEqual(new Set(keys));
    });

    it('should isolate stores that use different key prefixes', async () => {
      const other = harness.open(kind, `${prefix}-other`);
      await store.set('shared', 'mine');
      await other.set('shared', 'theirs');
      await other.set('only-other', 1);

      expect(await store.get('shared')).toBe('mine');
      expect(await other.get('shared')).toBe('theirs');
      expect(await store.get('only-other')).toBeNull();
      expect((await store.scanKeys('')).sort()).toEqual(['shared']);
      expect((await other.scanKeys('')).sort()).toEqual(['only-other', 'shared']);
      expect(await store.delete('shared', 'only-other')).toBe(1);
      expect(await other.get('shared')).toBe('theirs');
    });

    if (kind !== 'memory') {
      it('should write keys under "<prefix>:" on the server', async () => {
        await store.set('layout', 1);
        expect(await harness.rawKeys(`${prefix}:*`)).toEqual([`${prefix}:layout`]);
      });
    }
  });

  describe('counters', () => {
    it('should increment atomically and apply the TTL only when the counter is created', async () => {
      expect(await store.increment('hits', 1, 200)).toBe(1);
      expect(await store.increment('hits', 5, 60_000)).toBe(6);
      expect(await store.increment('hits', -2)).toBe(4);
      expect(await store.get('hits')).toBe(4);
      expect(await store.ttl('hits')).toBeLessThanOrEqual(200);

      await sleep(350);
      expect(await store.increment('hits')).toBe(1);
      expect(await store.ttl('hits')).toBe(-1);
    });

    it('should not lose increments made concurrently by several instances', async () => {
      const instances = Array.from({ length: 5 }, () => harness.open(kind, prefix));
      await Promise.all(
        instances.flatMap((s) => Array.from({ length: 20 }, () => s.increment('concurrent'))),
      );
      expect(await store.get('concurrent')).toBe(100);
    });
  });

  describe('rate limits', () => {
    it('should open the window with the first hit and count the hits in it', async () => {
      const first = await store.hitRateLimit('rl', 60_000, 3, 0);
      expect(first).toEqual({ hits: 1, resetInMs: expect.any(Number), blockedForMs: 0, granted: 1 });
      expect(first.resetInMs).toBeGreaterThan(59_000);
      expect(first.resetInMs).toBeLessThanOrEqual(60_000);
      expect(await store.ttl('rl')).toBeGreaterThan(59_000);
      expect((await store.hitRateLimit('rl', 60_000, 3, 0)).hits).toBe(2);
      const third = await store.hitRateLimit('rl', 5_000, 3, 0);
      // A later hit never moves the window.
      expect(third).toMatchObject({ hits: 3, blockedForMs: 0 });
      expect(third.resetInMs).toBeGreaterThan(5_000);
    });

    it('should block past the limit for the block time, without counting blocked hits', async () => {
      for (let i = 1; i <= 2; i++)
        expect((await store.hitRateLimit('rl', 60_000, 2, 10_000)).blockedForMs).toBe(0);
      const over = await store.hitRateLimit('rl', 60_000, 2, 10_000);
      expect(over).toMatchObject({ hits: 3, blockedForMs: 10_000 });
      const blocked = await store.hitRateLimit('rl', 60_000, 2, 10_000);
      expect(blocked.hits).toBe(3);
      expect(blocked.blockedForMs).toBeGreaterThan(9_000);
      expect(blocked.blockedForMs).toBeLessThanOrEqual(10_000);
      expect(blocked.resetInMs).toBe(blocked.blockedForMs);
      expect(await store.get('rl')).toBe(3);
    });

    it('should block until the window ends when no block time is given', async () => {
      await store.hitRateLimit('rl', 60_000, 1, 0);
      const over = await store.hitRateLimit('rl', 60_000, 1, 0);
      expect(over.hits).toBe(2);
      expect(over.blockedForMs).toBe(over.resetInMs);
      expect(over.blockedForMs).toBeGreaterThan(59_000);
    });

    it('should let requests through again once the block and the window have expired', async () => {
      await store.hitRateLimit('rl', 150, 1, 150);
      expect((await store.hitRateLimit('rl', 150, 1, 150)).blockedForMs).toBeGreaterThan(0);
      expect((await store.hitRateLimit('rl', 150, 1, 150)).blockedForMs).toBeGreaterThan(0);
      await sleep(350);
      expect(await store.hitRateLimit('rl', 150, 1, 150)).toMatchObject({ hits: 1, blockedForMs: 0 });
    });

    it('should keep a separate budget per key', async () => {
      await store.hitRateLimit('rl:a', 60_000, 1, 0);
      expect((await store.hitRateLimit('rl:a', 60_000, 1, 0)).blockedForMs).toBeGreaterThan(0);
      expect(await store.hitRateLimit('rl:b', 60_000, 1, 0)).toMatchObject({ hits: 1, blockedForMs: 0 });
    });

    it('should share exactly one budget between replicas hitting concurrently', async () => {
      const replicas = [store, harness.open(kind, prefix)];
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => replicas[i % 2].hitRateLimit('shared', 60_000, 10, 0)),
      );
      const allowed = results.filter((r) => r.blockedForMs === 0);
      expect(allowed).toHaveLength(10);
      expect(allowed.map((r) => r.hits).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 10 }, (_, i) => i + 1),
      );
      expect((await replicas[1].hitRateLimit('shared', 60_000, 10, 0)).blockedForMs).toBeGreaterThan(0);
    });

    it('should reserve several hits at once, granting only what is left under the limit', async () => {
      expect(await store.hitRateLimit('rl', 60_000, 10, 0, 4)).toMatchObject({ hits: 4, granted: 4, blockedForMs: 0 });
      expect(await store.hitRateLimit('rl', 60_000, 10, 0, 4)).toMatchObject({ hits: 8, granted: 4, blockedForMs: 0 });
      expect(await store.hitRateLimit('rl', 60_000, 10, 0, 4)).toMatchObject({ hits: 10, granted: 2, blockedForMs: 0 });
      expect(await store.get('rl')).toBe(10);
      // Nothing left: one hit over the limit is counted and blocks, as a single hit would.
      const over = await store.hitRateLimit('rl', 60_000, 10, 0, 4);
      expect(over).toMatchObject({ hits: 11, granted: 0 });
      expect(over.blockedForMs).toBeGreaterThan(59_000);
      expect(await store.hitRateLimit('rl', 60_000, 10, 0, 4)).toMatchObject({ hits: 11, granted: 0 });
      expect(await store.get('rl')).toBe(11);
    });

    it('should never grant more than the limit to replicas reserving concurrently', async () => {
      const replicas = [store, harness.open(kind, prefix)];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => replicas[i % 2].hitRateLimit('shared', 60_000, 25, 0, 3)),
      );
      expect(results.reduce((sum, r) => sum + r.granted, 0)).toBe(25);
      expect(results.filter((r) => r.granted === 0).every((r) => r.blockedForMs > 0)).toBe(true);
    });

    if (kind === 'upstash') {
      it('should take one HTTP request per hit', async () => {
        const before = harness.bridgeRequests();
        await store.hitRateLimit('rl', 60_000, 1, 0);
        await store.hitRateLimit('rl', 60_000, 1, 0);
        await store.hitRateLimit('rl', 60_000, 1, 0);
        expect(harness.bridgeRequests() - before).toBe(3);
      });
    }

    if (kind === 'redis') {
      it('should send one command (an EVAL) per hit', async () => {
        const command = jest.spyOn(store as unknown as { command: () => Promise<unknown> }, 'command');
        const before = await harness.commandCalls();
        await store.hitRateLimit('rl', 60_000, 1, 0);
        await store.hitRateLimit('rl', 60_000, 1, 0);
        const after = await harness.commandCalls();
        expect(command).toHaveBeenCalledTimes(2);
        expect((after.eval ?? 0) - (before.eval ?? 0)).toBe(2);
      });
    }
  });

  describe('sorted sets', () => {
    beforeEach(async () => {
      await store.sortedSetAdd('deadlines', [
        { member: 'c', score: 30 },
        { member: 'a', score: 10 },
        { member: 'b', score: 20.5 },
        { member: 'd', score: 40 },
        { member: 'tie', score: 10 },
      ]);
    });

    it('should return members within the inclusive score range, lowest first', async () => {
      expect(await store.sortedSetRangeByScore('deadlines', 10, 30)).toEqual([
        { member: 'a', score: 10 },
        { member: 'tie', score: 10 },
        { member: 'b', score: 20.5 },
        { member: 'c', score: 30 },
      ]);
      expect(await store.sortedSetRangeByScore('deadlines', 11, 29)).toEqual([{ member: 'b', score: 20.5 }]);
      expect(await store.sortedSetRangeByScore('deadlines', 100, 200)).toEqual([]);
      expect(await store.sortedSetRangeByScore('missing', 0, 100)).toEqual([]);
    });

    it('should honour the limit and infinite bounds', async () => {
      const firstTwo = await store.sortedSetRangeByScore('deadlines', -Infinity, Infinity, 2);
      expect(firstTwo.map((m) => m.member)).toEqual(['a', 'tie']);
      const upTo25 = await store.sortedSetRangeByScore('deadlines', -Infinity, 25);
      expect(upTo25.map((m) => m.member)).toEqual(['a', 'tie', 'b']);
    });

    it('should move a member when it is added again with a new score', async () => {
      await store.sortedSetAdd('deadlines', [{ member: 'a', score: 50 }]);
      expect(await store.sortedSetScore('deadlines', 'a')).toBe(50);
      const all = await store.sortedSetRangeByScore('deadlines', -Infinity, Infinity);
      expect(all.map((m) => m.member)).toEqual(['tie', 'b', 'c', 'd', 'a']);
    });

    it('should read a score range highest first, with offset and limit', async () => {
      const desc = await store.sortedSetRangeByScore('deadlines', -Infinity, Infinity, undefined, {
        reverse: true,
      });
      // Equal scores come highest member first when reversed, as ZREVRANGEBYSCORE.
      expect(desc.map((m) => m.member)).toEqual(['d', 'c', 'b', 'tie', 'a']);
      const page = await store.sortedSetRangeByScore('deadlines', -Infinity, 30, 2, {
        reverse: true,
        offset: 1,
      });
      expect(page).toEqual([
        { member: 'b', score: 20.5 },
        { member: 'tie', score: 10 },
      ]);
      const skipped = await store.sortedSetRangeByScore('deadlines', 10, 40, 2, { offset: 3 });
      expect(skipped.map((m) => m.member)).toEqual(['c', 'd']);
    });

    it('should read members by position, in either order', async () => {
      expect((await store.sortedSetRange('deadlines', 0, 1)).map((m) => m.member)).toEqual(['a', 'tie']);
      expect(await store.sortedSetRange('deadlines', 1, 2, { reverse: true })).toEqual([
        { member: 'c', score: 30 },
        { member: 'b', score: 20.5 },
      ]);
      expect((await store.sortedSetRange('deadlines', 0, -1)).map((m) => m.member)).toEqual([
        'a',
        'tie',
        'b',
        'c',
        'd',
      ]);
      expect((await store.sortedSetRange('deadlines', -2, -1)).map((m) => m.member)).toEqual(['c', 'd']);
      expect(await store.sortedSetRange('deadlines', 5, 9)).toEqual([]);
      expect(await store.sortedSetRange('missing', 0, -1)).toEqual([]);
    });

    it('should read the current order after members move, are re-added or removed', async () => {
      const order = async (): Promise<string[]> =>
        (await store.sortedSetRange('deadlines', 0, -1, { reverse: true })).map((m) => m.member);
      expect(await order()).toEqual(['d', 'c', 'b', 'tie', 'a']);
      await store.sortedSetAdd('deadlines', [{ member: 'a', score: 35 }]);
      await store.sortedSetAdd('deadlines', [{ member: 'c', score: 30 }]);
      expect(await order()).toEqual(['d', 'a', 'c', 'b', 'tie']);
      await store.sortedSetRemove('deadlines', 'd');
      await store.sortedSetAdd('deadlines', [{ member: 'e', score: 1 }]);
      expect(await order()).toEqual(['a', 'c', 'b', 'tie', 'e']);
      expect(await store.sortedSetRangeByScore('deadlines', 30, 40)).toEqual([
        { member: 'c', score: 30 },
        { member: 'a', score: 35 },
      ]);
    });

    it('should find the members containing a text, glob characters taken literally', async () => {
      await store.sortedSetAdd('names', [
        { member: 'train-a\u0000i1', score: 1 },
        { member: 'Train-b\u0000i2', score: 2 },
        { member: 'x*[a]?\\\u0000i3', score: 3 },
        { member: 'other\u0000i4', score: 4 },
      ]);
      const find = async (text: string): Promise<string[]> =>
        (await store.sortedSetFind('names', text)).map((m) => m.member).sort();
      expect(await find('rain-')).toEqual(['Train-b\u0000i2', 'train-a\u0000i1']);
      expect(await find('train')).toEqual(['train-a\u0000i1']);
      expect(await find('*[a]?\\')).toEqual(['x*[a]?\\\u0000i3']);
      expect(await find('?')).toEqual(['x*[a]?\\\u0000i3']);
      expect(await find('nothing')).toEqual([]);
      expect(await store.sortedSetFind('missing', 'a')).toEqual([]);
      expect(await store.sortedSetFind('names', 'other')).toEqual([{ member: 'other\u0000i4', score: 4 }]);
    });

    it('should find matches in a set larger than one scan step', async () => {
      const many = Array.from({ length: 12_000 }, (_, i) => ({ member: `m-${i}`, score: i }));
      for (let i = 0; i < many.length; i += 3000) await store.sortedSetAdd('big', many.slice(i, i + 3000));
      const found = await store.sortedSetFind('big', '-11');
      expect(found).toHaveLength(1 + 10 + 100 + 1000);
      expect(found.find((m) => m.member === 'm-11999')).toEqual({ member: 'm-11999', score: 11999 });
    });

    it('should count members and look up many scores at once', async () => {
      expect(await store.sortedSetCount('deadlines')).toBe(5);
      expect(await store.sortedSetCount('missing')).toBe(0);
      // A score range counts only the members inside it, bounds included.
      expect(await store.sortedSetCount('deadlines', 10, 20.5)).toBe(3);
      expect(await store.sortedSetCount('deadlines', 20.6, Infinity)).toBe(2);
      expect(await store.sortedSetCount('deadlines', -Infinity, 9)).toBe(0);
      expect(await store.sortedSetCount('missing', 0, 10)).toBe(0);
      expect(await store.sortedSetScores('deadlines', ['b', 'nope', 'tie'])).toEqual([20.5, null, 10]);
      expect(await store.sortedSetScores('missing', ['a'])).toEqual([null]);
      expect(await store.sortedSetScores('deadlines', [])).toEqual([]);
    });

    it('should remove members and report how many were there', async () => {
      expect(await store.sortedSetRemove('deadlines', 'a', 'b', 'nope')).toBe(2);
      expect(await store.sortedSetScore('deadlines', 'a')).toBeNull();
      expect(await store.sortedSetScore('deadlines', 'c')).toBe(30);
      expect(await store.sortedSetScore('missing', 'c')).toBeNull();
      expect((await store.sortedSetRangeByScore('deadlines', 0, 100)).map((m) => m.member)).toEqual([
        'tie',
        'c',
        'd',
      ]);
    });
  });

  describe('write batches', () => {
    it('should apply sets, deletes and sorted-set changes in order', async () => {
      await store.set('gone', 1);
      await store.sortedSetAdd('idx', [{ member: 'old', score: 1 }]);
      await store.writeBatch([
        { op: 'set', key: 'rec:a', value: { id: 'a' } },
        { op: 'set', key: 'rec:b', value: { id: 'b' }, ttlMs: 60_000 },
        { op: 'delete', key: 'gone' },
        {
          op: 'sortedSetAdd',
          key: 'idx',
          members: [
            { member: 'a', score: 5 },
            { member: 'b', score: 7 },
          ],
        },
        { op: 'sortedSetRemove', key: 'idx', members: ['old', 'never-there'] },
        // Empty member lists are skipped rather than sent as invalid commands.
        { op: 'sortedSetAdd', key: 'idx', members: [] },
        { op: 'sortedSetRemove', key: 'idx', members: [] },
        { op: 'sortedSetRemove', key: 'idx', members: ['a'] },
        { op: 'sortedSetAdd', key: 'idx', members: [{ member: 'a', score: 6 }] },
      ]);
      expect(await store.getMany(['rec:a', 'rec:b', 'gone'])).toEqual([{ id: 'a' }, { id: 'b' }, null]);
      expect(await store.ttl('rec:b')).toBeGreaterThan(50_000);
      expect(await store.ttl('rec:a')).toBe(-1);
      expect(await store.sortedSetRange('idx', 0, -1)).toEqual([
        { member: 'a', score: 6 },
        { member: 'b', score: 7 },
      ]);
      await store.writeBatch([]);
    });

    it('should place members in some sets of a family and take them out of the others', async () => {
      const family = ['f:a', 'f:b', 'f:c'];
      await store.sortedSetAdd('f:a', [{ member: 'x', score: 1 }]);
      await store.sortedSetAdd('f:c', [{ member: 'y', score: 2 }]);
      await store.writeBatch([
        {
          op: 'sortedSetPlace',
          keys: family,
          members: [
            { member: 'x', score: 10, in: [1, 2] },
            { member: 'y', score: 20, in: [] },
            { member: 'z', score: 30, in: [0] },
          ],
        },
        { op: 'sortedSetPlace', keys: family, members: [] },
      ]);
      expect(await store.sortedSetRange('f:a', 0, -1)).toEqual([{ member: 'z', score: 30 }]);
      expect(await store.sortedSetRange('f:b', 0, -1)).toEqual([{ member: 'x', score: 10 }]);
      expect(await store.sortedSetRange('f:c', 0, -1)).toEqual([{ member: 'x', score: 10 }]);
    });

    if (kind === 'upstash') {
      it('should send the whole batch in one request', async () => {
        const before = harness.bridgeRequests();
        await store.writeBatch([
          { op: 'set', key: 'one', value: 1 },
          { op: 'sortedSetAdd', key: 'z', members: [{ member: 'one', score: 1 }] },
          { op: 'sortedSetRemove', key: 'z2', members: ['x'] },
          { op: 'delete', key: 'two' },
          { op: 'sortedSetPlace', keys: ['z', 'z3'], members: [{ member: 'p', score: 2, in: [1] }] },
        ]);
        expect(harness.bridgeRequests() - before).toBe(1);
        expect(await store.sortedSetScore('z3', 'p')).toBe(2);
        expect(await store.sortedSetScore('z', 'one')).toBe(1);
      });
    }
  });
});
