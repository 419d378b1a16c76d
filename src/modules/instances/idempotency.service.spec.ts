import { AppError, ErrorCode } from '../../common/errors';
import { buildInstancesHarness, InstancesHarness } from '../../../test/fakes/instances-unit-harness';
import { fingerprintOf } from './idempotency.service';

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
});
