import { AppError, ErrorCode } from '../../common/errors';
import { buildInstancesHarness, InstancesHarness } from '../../../test/fakes/instances-unit-harness';
import { fingerprintOf, idempotencyStoreKey } from './idempotency.service';

describe('IdempotencyService', () => {
  let h: InstancesHarness;
  beforeEach(() => {
    h = buildInstancesHarness();
  });

  it('fingerprints bodies independently of key order', () => {
    expect(fingerprintOf({ a: 1, b: { c: 2, d: undefined } })).toBe(fingerprintOf({ b: { c: 2 }, a: 1 }));
    expect(fingerprintOf({ a: 1 })).not.toBe(fingerprintOf({ a: 2 }));
  });

  it('runs the work once for concurrent requests with one key; all get the first result', async () => {
    let runs = 0;
    const work = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 150));
      return { status: 201, body: { id: `result-${runs}` } };
    };
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        h.idempotency.execute({ scope: 't', key: 'k1', fingerprint: 'f', work, release: () => true }),
      ),
    );
    expect(runs).toBe(1);
    expect(results.map((r) => r.body)).toEqual(Array(5).fill({ id: 'result-1' }));
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);

    // A later retry gets the stored result without running anything.
    const later = await h.idempotency.execute({
      scope: 't',
      key: 'k1',
      fingerprint: 'f',
      work,
      release: () => true,
    });
    expect(later).toEqual({ status: 201, body: { id: 'result-1' }, replayed: true });
    expect(runs).toBe(1);
  });

  it('rejects the same key with a different body (409)', async () => {
    await h.idempotency.execute({
      scope: 't',
      key: 'k',
      fingerprint: 'a',
      work: async () => ({ status: 201, body: 1 }),
      release: () => true,
    });
    await expect(
      h.idempotency.execute({
        scope: 't',
        key: 'k',
        fingerprint: 'b',
        work: async () => ({ status: 201, body: 2 }),
        release: () => true,
      }),
    ).rejects.toMatchObject({ code: ErrorCode.CONFLICT, details: { reason: 'IDEMPOTENCY_KEY_REUSED' } });
  });

  it('frees the key after a failure that changed nothing, so a retry runs again', async () => {
    const fail = async (): Promise<never> => {
      throw new AppError(ErrorCode.INSUFFICIENT_RESOURCES, 'none');
    };
    await expect(
      h.idempotency.execute({ scope: 't', key: 'k', fingerprint: 'f', work: fail, release: () => true }),
    ).rejects.toMatchObject({
      code: ErrorCode.INSUFFICIENT_RESOURCES,
    });
    const ok = await h.idempotency.execute({
      scope: 't',
      key: 'k',
      fingerprint: 'f',
      work: async () => ({ status: 201, body: 'x' }),
      release: () => true,
    });
    expect(ok).toEqual({ status: 201, body: 'x', replayed: false });
  });

  it('replays an ambiguous failure instead of running the work a second time', async () => {
    let runs = 0;
    const work = async (): Promise<never> => {
      runs++;
      throw new AppError(ErrorCode.UPSTREAM_TIMEOUT, 'no answer', { region: 'AS-SGP-02' });
    };
    const args = { scope: 't', key: 'k', fingerprint: 'f', work, release: () => false };
    await expect(h.idempotency.execute(args)).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_TIMEOUT });
    await expect(h.idempotency.execute(args)).rejects.toMatchObject({
      code: ErrorCode.UPSTREAM_TIMEOUT,
      details: { region: 'AS-SGP-02', idempotentReplay: true },
    });
    expect(runs).toBe(1);
  });

  it('answers 409 OPERATION_IN_PROGRESS when the first request is still running after the wait', async () => {
    let release!: () => void;
    const slow = () =>
      new Promise<{ status: number; body: number }>(
        (resolve) => (release = () => resolve({ status: 201, body: 1 })),
      );
    const first = h.idempotency.execute({
      scope: 't',
      key: 'k',
      fingerprint: 'f',
      work: async (note) => (await note('inst_1'), slow()),
      release: () => true,
    });
    await new Promise((r) => setTimeout(r, 20));
    await expect(
      h.idempotency.execute({
        scope: 't',
        key: 'k',
        fingerprint: 'f',
        work: slow,
        release: () => true,
        waitMs: 150,
      }),
    ).rejects.toMatchObject({ code: ErrorCode.OPERATION_IN_PROGRESS, details: { instanceId: 'inst_1' } });
    release();
    await expect(first).resolves.toMatchObject({ body: 1 });
  });

  it('rejects malformed keys', async () => {
    await expect(
      h.idempotency.execute({
        scope: 't',
        key: 'has space',
        fingerprint: 'f',
        work: async () => ({ status: 201, body: 1 }),
        release: () => true,
      }),
    ).rejects.toMatchObject({ code: ErrorCode.VALIDATION_ERROR });
  });

  describe('entries in the store', () => {
    const ok = (body: unknown) => async () => ({ status: 201, body });
    const storeKey = (scope: string, key: string) => `idempotency:${scope}:${key}`;

    it('keeps every entry for IDEMPOTENCY_KEY_TTL_HOURS: while pending, after noting the instance and when done', async () => {
      const hours = 48;
      const harness = buildInstancesHarness({ IDEMPOTENCY_KEY_TTL_HOURS: String(hours) });
      const ttlMs = hours * 3600_000;
      const ttls: number[] = [];
      await harness.idempotency.execute({
        scope: 's',
        key: 'ttl-key',
        fingerprint: 'f',
        work: async (note) => {
          ttls.push(await harness.store.ttl(storeKey('s', 'ttl-key')));
          await note('inst_ttl');
          ttls.push(await harness.store.ttl(storeKey('s', 'ttl-key')));
          return { status: 201, body: 1 };
        },
        release: () => true,
      });
      ttls.push(await harness.store.ttl(storeKey('s', 'ttl-key')));
      for (const ttl of ttls) {
        expect(ttl).toBeGreaterThan(ttlMs - 60_000);
        expect(ttl).toBeLessThanOrEqual(ttlMs);
      }
      const stored = await harness.store.get<Record<string, unknown>>(storeKey('s', 'ttl-key'));
      expect(stored).toMatchObject({
        state: 'done',
        instanceId: 'inst_ttl',
        response: { status: 201, body: 1 },
      });
    });

    it('keeps a stored failure for the TTL too', async () => {
      const fail = async (): Promise<never> => {
        throw new AppError(ErrorCode.UPSTREAM_TIMEOUT, 'no answer');
      };
      await expect(
        h.idempotency.execute({
          scope: 's',
          key: 'err-key',
          fingerprint: 'f',
          work: fail,
          release: () => false,
        }),
      ).rejects.toBeInstanceOf(AppError);
      const ttl = await h.store.ttl(storeKey('s', 'err-key'));
      expect(ttl).toBeGreaterThan(23 * 3600_000);
      expect(await h.store.get(storeKey('s', 'err-key'))).toMatchObject({
        state: 'done',
        error: { code: ErrorCode.UPSTREAM_TIMEOUT, message: 'no answer' },
      });
    });

    it('keeps keys of different scopes apart: one key in two scopes runs twice', async () => {
      const a = await h.idempotency.execute({
        scope: 'create',
        key: 'same',
        fingerprint: 'f',
        work: ok('a'),
        release: () => true,
      });
      const b = await h.idempotency.execute({
        scope: 'other',
        key: 'same',
        fingerprint: 'g',
        work: ok('b'),
        release: () => true,
      });
      expect(a).toEqual({ status: 201, body: 'a', replayed: false });
      expect(b).toEqual({ status: 201, body: 'b', replayed: false });
      expect(await h.store.get(storeKey('create', 'same'))).toMatchObject({ fingerprint: 'f' });
      expect(await h.store.get(storeKey('other', 'same'))).toMatchObject({ fingerprint: 'g' });
    });

    it('frees the key when the work throws something that is not an AppError, even if release says keep', async () => {
      const boom = async (): Promise<never> => {
        throw new Error('bug');
      };
      await expect(
        h.idempotency.execute({
          scope: 's',
          key: 'bug-key',
          fingerprint: 'f',
          work: boom,
          release: () => false,
        }),
      ).rejects.toThrow('bug');
      expect(await h.store.get(storeKey('s', 'bug-key'))).toBeNull();
    });

    it('replays a stored failure without details as the same code with only idempotentReplay', async () => {
      const fail = async (): Promise<never> => {
        throw new AppError(ErrorCode.UPSTREAM_TIMEOUT, 'no answer');
      };
      const args = { scope: 's', key: 'plain-err', fingerprint: 'f', work: fail, release: () => false };
      await expect(h.idempotency.execute(args)).rejects.toBeInstanceOf(AppError);
      await expect(h.idempotency.execute(args)).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_TIMEOUT,
        message: 'no answer',
        details: { idempotentReplay: true },
      });
      expect(await h.store.get(storeKey('s', 'plain-err'))).toEqual(
        expect.not.objectContaining({ error: expect.objectContaining({ details: expect.anything() }) }),
      );
    });

    it('answers OPERATION_IN_PROGRESS without an instanceId when none was noted yet', async () => {
      let finish!: () => void;
      const first = h.idempotency.execute({
        scope: 's',
        key: 'busy',
        fingerprint: 'f',
        work: () =>
          new Promise<{ status: number; body: number }>(
            (resolve) => (finish = () => resolve({ status: 201, body: 0 })),
          ),
        release: () => true,
      });
      await new Promise((r) => setTimeout(r, 10));
      const err = await h.idempotency
        .execute({ scope: 's', key: 'busy', fingerprint: 'f', work: ok(1), release: () => true, waitMs: 0 })
        .catch((e: AppError) => e);
      expect(err).toMatchObject({
        code: ErrorCode.OPERATION_IN_PROGRESS,
        message: 'A request with this Idempotency-Key is still in progress',
        details: { idempotencyKey: 'busy' },
      });
      expect((err as AppError).details).not.toHaveProperty('instanceId');
      finish();
      await first;
    });
  });

  it('lets a waiting repeat run the work itself when the first request failed and freed the key', async () => {
    const first = h.idempotency.execute({
      scope: 't',
      key: 'handover',
      fingerprint: 'f',
      work: async () => {
        await new Promise((r) => setTimeout(r, 150));
        throw new AppError(ErrorCode.INSUFFICIENT_RESOURCES, 'none');
      },
      release: () => true,
    });
    const firstOutcome = first.catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    const second = await h.idempotency.execute({
      scope: 't',
      key: 'handover',
      fingerprint: 'f',
      work: async () => ({ status: 201, body: 'second' }),
      release: () => true,
    });
    expect(await firstOutcome).toMatchObject({ code: ErrorCode.INSUFFICIENT_RESOURCES });
    expect(second).toEqual({ status: 201, body: 'second', replayed: false });
  });

  it('words its refusals for the caller', async () => {
    const run = (key: string, fingerprint = 'f') =>
      h.idempotency.execute({
        scope: 't',
        key,
        fingerprint,
        work: async () => ({ status: 201, body: 1 }),
        release: () => true,
      });
    await expect(run('bad key')).rejects.toMatchObject({
      message: 'Idempotency-Key must be 1-255 printable ASCII characters',
      details: {
        fields: [
          { field: 'Idempotency-Key', messages: ['must be 1-255 printable ASCII characters without spaces'] },
        ],
      },
    });
    await run('worded');
    await expect(run('worded', 'other')).rejects.toMatchObject({
      message: 'Idempotency-Key was already used with a different request body',
      details: { idempotencyKey: 'worded', reason: 'IDEMPOTENCY_KEY_REUSED' },
    });
  });

  it('marks the entry pending while the work runs', async () => {
    let during: unknown;
    await h.idempotency.execute({
      scope: 't',
      key: 'pending-state',
      fingerprint: 'f',
      work: async () => {
        during = await h.store.get('idempotency:t:pending-state');
        return { status: 201, body: 1 };
      },
      release: () => true,
    });
    expect(during).toMatchObject({ state: 'pending', fingerprint: 'f' });
  });

  describe('key syntax', () => {
    const run = (key: string) =>
      h.idempotency.execute({
        scope: 't',
        key,
        fingerprint: 'f',
        work: async () => ({ status: 201, body: key }),
        release: () => true,
      });

    it.each(['a', '!', '~', 'x'.repeat(255), 'ABC-123_.:/+='])('accepts %j', async (key) => {
      await expect(run(key)).resolves.toMatchObject({ body: key, replayed: false });
    });

    it.each(['', 'x'.repeat(256), 'tab\there', 'é', 'new\nline', 'del\u007f'])(
      'refuses %j naming the header',
      async (key) => {
        await expect(run(key)).rejects.toMatchObject({
          code: ErrorCode.VALIDATION_ERROR,
          details: { fields: [{ field: 'Idempotency-Key', messages: [expect.any(String)] }] },
        });
      },
    );
  });

  it('tells arrays from objects with the same entries', () => {
    expect(fingerprintOf({ a: [1] })).not.toBe(fingerprintOf({ a: { 0: 1 } }));
  });

  it('fingerprints nested arrays and drops only undefined values', () => {
    expect(fingerprintOf({ a: [{ y: 1, x: 2 }] })).toBe(fingerprintOf({ a: [{ x: 2, y: 1 }] }));
    expect(fingerprintOf({ a: [1, 2] })).not.toBe(fingerprintOf({ a: [2, 1] }));
    expect(fingerprintOf({ a: null })).not.toBe(fingerprintOf({}));
    expect(fingerprintOf({ a: 0 })).not.toBe(fingerprintOf({}));
    expect(fingerprintOf({ a: '' })).not.toBe(fingerprintOf({}));
    expect(fingerprintOf({ a: false })).not.toBe(fingerprintOf({}));
    expect(fingerprintOf({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  describe('requests whose outcome is settled later (write-ahead intents)', () => {
    const storeKey = idempotencyStoreKey('t', 'kd');
    const deferred = () =>
      h.idempotency.execute({
        scope: 't',
        key: 'kd',
        fingerprint: 'f',
        work: async () => {
          throw new AppError(ErrorCode.UPSTREAM_TIMEOUT, 'no answer');
        },
        release: () => false,
        defer: (err) => err instanceof AppError && err.code === ErrorCode.UPSTREAM_TIMEOUT,
        waitMs: 50,
      });

    it('keeps a deferred key pending (not answered, not freed) and names the work as in progress', async () => {
      await expect(deferred()).rejects.toMatchObject({ code: ErrorCode.UPSTREAM_TIMEOUT });
      expect(await h.store.get(storeKey)).toMatchObject({ state: 'pending', fingerprint: 'f' });
      await expect(deferred()).rejects.toMatchObject({ code: ErrorCode.OPERATION_IN_PROGRESS });
    });

    it('answers a pending key with the settled response, keeping its TTL, and never rewrites a finished one', async () => {
      await expect(deferred()).rejects.toBeDefined();
      await h.idempotency.settle(storeKey, { response: { status: 201, body: { id: 'adopted' } } });
      expect(await h.store.ttl(storeKey)).toBeGreaterThan(0);
      await expect(deferred()).resolves.toEqual({ status: 201, body: { id: 'adopted' }, replayed: true });
      await h.idempotency.settle(storeKey, {
        error: { code: ErrorCode.UPSTREAM_UNAVAILABLE, message: 'late' },
      });
      await expect(deferred()).resolves.toMatchObject({ body: { id: 'adopted' } });
    });

    it('answers a pending key with the settled error', async () => {
      await expect(deferred()).rejects.toBeDefined();
      await h.idempotency.settle(storeKey, {
        error: { code: ErrorCode.UPSTREAM_UNAVAILABLE, message: 'nothing created' },
      });
      await expect(deferred()).rejects.toMatchObject({
        code: ErrorCode.UPSTREAM_UNAVAILABLE,
        message: 'nothing created',
      });
    });

    it('frees a pending key on release, but never a finished one', async () => {
      await expect(deferred()).rejects.toBeDefined();
      await h.idempotency.release(storeKey);
      expect(await h.store.get(storeKey)).toBeNull();
      await h.store.set(storeKey, {
        state: 'done',
        fingerprint: 'f',
        createdAt: 1,
        response: { status: 201, body: {} },
      });
      await h.idempotency.release(storeKey);
      expect(await h.store.get(storeKey)).toMatchObject({ state: 'done' });
      await expect(h.idempotency.release('idempotency:t:missing')).resolves.toBeUndefined();
      await h.idempotency.settle('idempotency:t:missing', { response: { status: 201, body: {} } });
      expect(await h.store.get('idempotency:t:missing')).toBeNull();
    });
  });
});
