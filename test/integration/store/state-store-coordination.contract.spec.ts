import { ErrorCode } from '../../../src/common/errors';
import { Lease, StateStore } from '../../../src/infra/store/state-store';
import { ADAPTER_KINDS, sleep, StoreHarness } from './store-harness';

/** Leases and mutexes of the StateStore contract; "replicas" are separate adapter instances. */
const harness = new StoreHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

describe.each(ADAPTER_KINDS)('StateStore contract (coordination): %s adapter', (kind) => {
  let prefix: string;
  let store: StateStore;
  const replicas = (n: number): StateStore[] => Array.from({ length: n }, () => harness.open(kind, prefix));

  beforeEach(() => {
    prefix = harness.uniquePrefix();
    store = harness.open(kind, prefix);
  });

  describe('leases', () => {
    it('should grant a lease to exactly one of 10 concurrent acquirers', async () => {
      const results = await Promise.all(replicas(10).map((r) => r.acquireLease('leader', 5000)));
      const winners = results.filter((lease): lease is Lease => lease !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ name: 'leader', fencingToken: 1 });
      expect(winners[0].owner).toEqual(expect.any(String));
      expect(winners[0].expiresAt).toBeGreaterThan(Date.now());
    });

    it('should refuse a held lease until its owner releases it', async () => {
      const [a, b] = replicas(2);
      const first = await a.acquireLease('sync', 5000);
      expect(first).not.toBeNull();
      expect(await b.acquireLease('sync', 5000)).toBeNull();
      expect(await a.acquireLease('sync', 5000)).toBeNull();

      expect(await a.releaseLease(first!)).toBe(true);
      expect(await a.releaseLease(first!)).toBe(false);
      const second = await b.acquireLease('sync', 5000);
      expect(second).not.toBeNull();
      expect(second!.fencingToken).toBeGreaterThan(first!.fencingToken);
    });

    it('should keep different lease names independent', async () => {
      expect(await store.acquireLease('auto-stop', 5000)).not.toBeNull();
      expect(await store.acquireLease('migration', 5000)).not.toBeNull();
    });

    it('should let another replica take over an expired lease, and lock the stale owner out', async () => {
      const [a, b, c] = replicas(3);
      const stale = await a.acquireLease('migration', 150);
      await sleep(300);
      const fresh = await b.acquireLease('migration', 5000);
      expect(fresh).not.toBeNull();
      expect(fresh!.fencingToken).toBeGreaterThan(stale!.fencingToken);

      expect(await a.renewLease(stale!, 5000)).toBe(false);
      expect(await a.releaseLease(stale!)).toBe(false);
      // The stale owner's attempts must not have freed the lease.
      expect(await c.acquireLease('migration', 5000)).toBeNull();
      expect(await b.renewLease(fresh!, 5000)).toBe(true);
    });

    it('should not let a forged lease with another owner token release or renew', async () => {
      const held = await store.acquireLease('leader', 5000);
      const forged: Lease = { ...held!, owner: 'someone-else' };
      expect(await store.releaseLease(forged)).toBe(false);
      expect(await store.renewLease(forged, 60_000)).toBe(false);
      expect(await harness.open(kind, prefix).acquireLease('leader', 5000)).toBeNull();
    });

    it('should keep a renewed lease past its original TTL', async () => {
      const [a, b] = replicas(2);
      const lease = await a.acquireLease('sweeper', 300);
      const firstExpiry = lease!.expiresAt;
      await sleep(150);
      expect(await a.renewLease(lease!, 1000)).toBe(true);
      expect(lease!.expiresAt).toBeGreaterThan(firstExpiry);
      await sleep(300);
      expect(await b.acquireLease('sweeper', 5000)).toBeNull();
      expect(await a.releaseLease(lease!)).toBe(true);
      expect(await b.acquireLease('sweeper', 5000)).not.toBeNull();
    });

    it('should issue strictly increasing fencing tokens across acquisitions by any replica', async () => {
      const rs = replicas(3);
      const tokens: number[] = [];
      for (let round = 0; round < 6; round++) {
        const holder = rs[round % rs.length];
        const lease = await holder.acquireLease('fenced', round % 2 ? 100 : 5000);
        expect(lease).not.toBeNull();
        tokens.push(lease!.fencingToken);
        // Alternate between an explicit release and letting the lease expire.
        if (round % 2) await sleep(200);
        else expect(await holder.releaseLease(lease!)).toBe(true);
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
    });
  });

  describe('withMutex', () => {
    it('should never run two sections on the same key at once', async () => {
      let active = 0;
      let maxActive = 0;
      const order: number[] = [];
      const runs = replicas(6).flatMap((r, i) =>
        [0, 1].map((j) =>
          r.withMutex('instance:i-1', async () => {
            active++;
            maxActive = Math.max(maxActive, active);
            await sleep(15);
            order.push(i * 2 + j);
            active--;
            return i * 2 + j;
          }),
        ),
      );
      const results = await Promise.all(runs);
      expect(maxActive).toBe(1);
      expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(order).toHaveLength(12);
    });

    it('should run sections on different keys in parallel', async () => {
      let active = 0;
      let maxActive = 0;
      const section = async (): Promise<void> => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(200);
        active--;
      };
      const [a, b] = replicas(2);
      await Promise.all([a.withMutex('instance:i-1', section), b.withMutex('instance:i-2', section)]);
      expect(maxActive).toBe(2);
    });

    it('should reject with OPERATION_IN_PROGRESS when the mutex stays taken past waitMs', async () => {
      const [a, b] = replicas(2);
      let release!: () => void;
      const holding = a.withMutex('instance:busy', () => new Promise<void>((resolve) => (release = resolve)));
      await sleep(50);
      const waiter = jest.fn(async () => 'ran');
      const startedAt = Date.now();
      await expect(b.withMutex('instance:busy', waiter, { waitMs: 150 })).rejects.toMatchObject({
        code: ErrorCode.OPERATION_IN_PROGRESS,
      });
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
      expect(waiter).not.toHaveBeenCalled();
      release();
      await holding;
      await expect(b.withMutex('instance:busy', waiter, { waitMs: 0 })).resolves.toBe('ran');
    });

    it('should release the mutex when the section throws', async () => {
      await expect(
        store.withMutex('instance:x', async () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      await expect(
        harness.open(kind, prefix).withMutex('instance:x', async () => 7, { waitMs: 0 }),
      ).resolves.toBe(7);
    });

    it('should free a mutex whose holder vanished once its TTL passes', async () => {
      const [a, b] = replicas(2);
      let release!: () => void;
      const stuck = a.withMutex('instance:y', () => new Promise<void>((resolve) => (release = resolve)), {
        ttlMs: 150,
      });
      await sleep(20);
      await expect(b.withMutex('instance:y', async () => 'late', { waitMs: 1000 })).resolves.toBe('late');
      release();
      await stuck;
    });
  });
});
