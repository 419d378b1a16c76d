import { AppError, ErrorCode } from '../../common/errors';
import { MemoryStateStore } from './memory-state-store';
import { createStateStore } from './store.factory';

describe(MemoryStateStore.name, () => {
  let sut: MemoryStateStore;

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    sut = new MemoryStateStore();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('should keep a value until exactly its TTL has passed', async () => {
    await sut.set('k', 'v', { ttlMs: 1000 });
    jest.advanceTimersByTime(999);
    expect(await sut.get('k')).toBe('v');
    expect(await sut.ttl('k')).toBe(1);
    jest.advanceTimersByTime(1);
    expect(await sut.get('k')).toBeNull();
    expect(await sut.ttl('k')).toBe(-2);
    expect(await sut.scanKeys('')).toEqual([]);
  });

  it('should hide expired entries from batches and scans', async () => {
    await sut.setMany([
      { key: 'a', value: 1, ttlMs: 500 },
      { key: 'b', value: 2 },
    ]);
    jest.advanceTimersByTime(500);
    expect(await sut.getMany(['a', 'b'])).toEqual([null, 2]);
    expect(await sut.scanKeys('')).toEqual(['b']);
    expect(await sut.delete('a', 'b')).toBe(1);
  });

  it('should store a copy, so later changes to the caller’s object do not leak in', async () => {
    const value = { list: [1] };
    await sut.set('k', value);
    value.list.push(2);
    expect(await sut.get('k')).toEqual({ list: [1] });
  });

  it('should answer peekCached at once: a copy of the value, or null when missing or expired', async () => {
    await sut.set('k', { list: [1] }, { ttlMs: 1000 });
    const peeked = sut.peekCached<{ list: number[] }>('k');
    expect(peeked).toEqual({ list: [1] });
    peeked!.list.push(2);
    expect(sut.peekCached('k')).toEqual({ list: [1] });
    expect(sut.peekCached('missing')).toBeNull();
    jest.advanceTimersByTime(1000);
    expect(sut.peekCached('k')).toBeNull();
  });

  it('should store undefined as null rather than failing', async () => {
    await sut.set('k', undefined);
    expect(await sut.get('k')).toBeNull();
    expect(await sut.ttl('k')).toBe(-1);
  });

  it('should keep a counter’s TTL from its creation across increments', async () => {
    expect(await sut.increment('c', 2, 1000)).toBe(2);
    jest.advanceTimersByTime(600);
    expect(await sut.increment('c', 3, 10_000)).toBe(5);
    expect(await sut.ttl('c')).toBe(400);
    jest.advanceTimersByTime(400);
    expect(await sut.increment('c')).toBe(1);
    expect(await sut.ttl('c')).toBe(-1);
  });

  it('should refuse to increment a value that is not an integer', async () => {
    await sut.set('text', 'abc');
    await expect(sut.increment('text')).rejects.toMatchObject({ code: ErrorCode.INTERNAL_ERROR });
    expect(await sut.get('text')).toBe('abc');
  });

  it('should refuse value reads on a sorted set key and set reads on a value key', async () => {
    await sut.sortedSetAdd('z', [{ member: 'm', score: 1 }]);
    await sut.set('v', 1);
    await expect(sut.get('z')).rejects.toBeInstanceOf(AppError);
    await expect(sut.sortedSetScore('v', 'm')).rejects.toMatchObject({ code: ErrorCode.INTERNAL_ERROR });
  });

  it('should drop a sorted set once its last member is removed', async () => {
    await sut.sortedSetAdd('z', [
      { member: 'a', score: 1 },
      { member: 'b', score: 2 },
    ]);
    expect(await sut.sortedSetRemove('z', 'a', 'b')).toBe(2);
    expect(await sut.ttl('z')).toBe(-2);
    expect(await sut.scanKeys('z')).toEqual([]);
    expect(await sut.sortedSetRemove('z', 'a')).toBe(0);
  });

  it('should return no members for a limit of 0 and all of them without a limit', async () => {
    await sut.sortedSetAdd('z', [
      { member: 'a', score: 1 },
      { member: 'b', score: 2 },
    ]);
    expect(await sut.sortedSetRangeByScore('z', 0, 10, 0)).toEqual([]);
    expect(await sut.sortedSetRangeByScore('z', 0, 10)).toHaveLength(2);
  });

  it('should expire a lease by the clock and hand the next one a higher fencing token', async () => {
    const first = await sut.acquireLease('leader', 1000);
    expect(first).toMatchObject({ fencingToken: 1, expiresAt: Date.now() + 1000 });
    jest.advanceTimersByTime(999);
    expect(await sut.acquireLease('leader', 1000)).toBeNull();
    jest.advanceTimersByTime(1);
    const second = await sut.acquireLease('leader', 1000);
    expect(second).toMatchObject({ fencingToken: 2 });
    expect(await sut.renewLease(first!, 1000)).toBe(false);
    expect(await sut.releaseLease(first!)).toBe(false);
    expect(await sut.releaseLease(second!)).toBe(true);
  });

  it('should move a renewed lease’s expiry forward', async () => {
    const lease = await sut.acquireLease('leader', 1000);
    jest.advanceTimersByTime(800);
    expect(await sut.renewLease(lease!, 1000)).toBe(true);
    expect(lease!.expiresAt).toBe(Date.now() + 1000);
    jest.advanceTimersByTime(900);
    expect(await sut.acquireLease('leader', 1000)).toBeNull();
  });

  it('should time out a waiting mutex with OPERATION_IN_PROGRESS after waitMs', async () => {
    let release!: () => void;
    const holder = sut.withMutex('k', () => new Promise<void>((resolve) => (release = resolve)));
    await Promise.resolve();
    const waiter = jest.fn(async () => 'ran');
    const waiting = sut.withMutex('k', waiter, { waitMs: 300 });
    const settled = expect(waiting).rejects.toMatchObject({ code: ErrorCode.OPERATION_IN_PROGRESS });
    await jest.advanceTimersByTimeAsync(300);
    await settled;
    expect(waiter).not.toHaveBeenCalled();
    release();
    await holder;
  });

  it('should forget everything on close', async () => {
    await sut.set('k', 1);
    await sut.acquireLease('leader', 1000);
    await sut.close();
    expect(await sut.get('k')).toBeNull();
    expect(await sut.acquireLease('leader', 1000)).not.toBeNull();
  });
});

describe(createStateStore.name, () => {
  const base = { keyPrefix: 'p', connectTimeoutMs: 1000, commandTimeoutMs: 1000 };

  it('should build the memory adapter when nothing else is configured', () => {
    expect(createStateStore({ ...base, kind: 'memory' })).toBeInstanceOf(MemoryStateStore);
  });

  it('should refuse a redis or upstash kind without its connection settings', () => {
    expect(() => createStateStore({ ...base, kind: 'redis' })).toThrow('redisUrl');
    expect(() => createStateStore({ ...base, kind: 'upstash', upstashUrl: 'http://127.0.0.1:1' })).toThrow(
      'upstashToken',
    );
  });
});
