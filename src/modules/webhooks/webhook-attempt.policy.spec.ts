import {
  INTERRUPTED_ATTEMPT_ERROR,
  applyAttemptOutcome,
  applyInterruptedAttempt,
} from './webhook-attempt.policy';
import { DeliveryRecord } from './webhook-delivery.types';
import { newDeliveryRecord } from './webhook-payload';

const settings = { maxAttempts: 3, initialBackoffMs: 1_000, maxBackoffMs: 60_000 };
const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const noJitter = () => 0;

function claimed(attemptCount: number): DeliveryRecord {
  const base = newDeliveryRecord(
    { type: 'instance.ready', instanceId: 'inst_1', data: {}, dedupeKey: 'op_1:ready' },
    'https://hooks.example.com/h',
    new Date(T0),
  );
  return {
    ...base,
    state: 'delivering',
    attemptCount,
    claimToken: 'tok',
    claimExpiresAt: new Date(T0 + 30_000).toISOString(),
  };
}

describe('applyAttemptOutcome', () => {
  it('marks a 2xx as delivered, clears the claim and records the attempt', () => {
    const next = applyAttemptOutcome(claimed(1), T0, { status: 204, durationMs: 12 }, settings, noJitter);
    expect(next.state).toBe('delivered');
    expect(next.nextAttemptAt).toBeNull();
    expect(next.claimToken).toBeUndefined();
    expect(next.claimExpiresAt).toBeUndefined();
    expect(next.attempts).toEqual([{ at: new Date(T0).toISOString(), status: 204, durationMs: 12 }]);
    expect(next.updatedAt).toBe(new Date(T0 + 12).toISOString());
  });

  it.each([200, 201, 202, 299])('treats HTTP %i as delivered (every 2xx, not only 204)', (status) => {
    const next = applyAttemptOutcome(claimed(1), T0, { status, durationMs: 2 }, settings, noJitter);
    expect(next.state).toBe('delivered');
    expect(next.lastError).toBeUndefined();
    expect(next.nextAttemptAt).toBeNull();
  });

  it.each([199, 300, 0])('does not treat HTTP %i as delivered', (status) => {
    const next = applyAttemptOutcome(claimed(1), T0, { status, durationMs: 2 }, settings, noJitter);
    expect(next.state).toBe('pending');
    expect(next.lastError).toBe(`receiver answered HTTP ${status}`);
  });

  it('clears an earlier lastError once delivered', () => {
    const record = { ...claimed(2), lastError: 'receiver answered HTTP 500' };
    expect(
      applyAttemptOutcome(record, T0, { status: 200, durationMs: 1 }, settings, noJitter).lastError,
    ).toBeUndefined();
  });

  it('keeps the earlier attempts and records an error attempt without a status', () => {
    const record = { ...claimed(2), attempts: [{ at: 'earlier', status: 500, durationMs: 1 }] };
    const next = applyAttemptOutcome(record, T0, { error: 'ECONNRESET', durationMs: 4 }, settings, noJitter);
    expect(next.attempts).toEqual([
      { at: 'earlier', status: 500, durationMs: 1 },
      { at: new Date(T0).toISOString(), error: 'ECONNRESET', durationMs: 4 },
    ]);
    expect(next.updatedAt).toBe(new Date(T0 + 4).toISOString());
    expect(next.claimToken).toBeUndefined();
    expect(next.claimExpiresAt).toBeUndefined();
  });

  it('says "unknown error" when an attempt produced neither a status nor an error', () => {
    const next = applyAttemptOutcome(claimed(1), T0, { durationMs: 1 }, settings, noJitter);
    expect(next.lastError).toBe('unknown error');
    expect(next.state).toBe('pending');
  });

  it('stops on 410 Gone without another attempt, even with budget left', () => {
    const next = applyAttemptOutcome(claimed(1), T0, { status: 410, durationMs: 5 }, settings, noJitter);
    expect(next.state).toBe('gone');
    expect(next.nextAttemptAt).toBeNull();
    expect(next.lastError).toBe('receiver answered HTTP 410');
  });

  it.each([
    [{ status: 500, durationMs: 3 }, 'receiver answered HTTP 500'],
    [{ status: 404, durationMs: 3 }, 'receiver answered HTTP 404'],
    [{ status: 301, durationMs: 3 }, 'receiver answered HTTP 301'],
    [{ error: 'ECONNREFUSED: connect ECONNREFUSED', durationMs: 1 }, 'ECONNREFUSED: connect ECONNREFUSED'],
    [{ error: 'timed out after 1000 ms', durationMs: 1000 }, 'timed out after 1000 ms'],
  ])('schedules a retry after %j', (outcome, lastError) => {
    const next = applyAttemptOutcome(claimed(1), T0, outcome, settings, noJitter);
    expect(next.state).toBe('pending');
    expect(next.nextAttemptAt).toBe(new Date(T0 + 1_000).toISOString());
    expect(next.lastError).toBe(lastError);
  });

  it('backs off exponentially from the start of the failed attempt', () => {
    const second = applyAttemptOutcome(claimed(2), T0, { status: 503, durationMs: 7 }, settings, noJitter);
    expect(second.nextAttemptAt).toBe(new Date(T0 + 2_000).toISOString());
  });

  it('fails once the attempt budget is spent', () => {
    const next = applyAttemptOutcome(claimed(3), T0, { status: 500, durationMs: 3 }, settings, noJitter);
    expect(next.state).toBe('failed');
    expect(next.nextAttemptAt).toBeNull();
    expect(next.lastError).toBe('receiver answered HTTP 500');
  });

  it('still retries on the attempt before the last', () => {
    const next = applyAttemptOutcome(claimed(2), T0, { status: 500, durationMs: 3 }, settings, noJitter);
    expect(next.state).toBe('pending');
  });

  it('fails a refused target even when it carries a status', () => {
    const next = applyAttemptOutcome(
      claimed(1),
      T0,
      { refused: true, status: 502, durationMs: 0 },
      settings,
      noJitter,
    );
    expect(next.state).toBe('failed');
    expect(next.nextAttemptAt).toBeNull();
  });

  it('fails a refused target at once', () => {
    const next = applyAttemptOutcome(
      claimed(1),
      T0,
      { refused: true, error: 'target refused: x', durationMs: 0 },
      settings,
      noJitter,
    );
    expect(next.state).toBe('failed');
    expect(next.lastError).toBe('target refused: x');
  });
});

describe('applyInterruptedAttempt', () => {
  it('records the lost attempt and makes the delivery due now', () => {
    const record = { ...claimed(1), updatedAt: new Date(T0).toISOString() };
    const next = applyInterruptedAttempt(record, T0 + 60_000, settings);
    expect(next.state).toBe('pending');
    expect(next.nextAttemptAt).toBe(new Date(T0 + 60_000).toISOString());
    expect(next.attempts).toEqual([
      { at: new Date(T0).toISOString(), error: INTERRUPTED_ATTEMPT_ERROR, durationMs: 0 },
    ]);
    expect(next.attemptCount).toBe(1);
  });

  it('fails when the interrupted attempt was the last one allowed', () => {
    const next = applyInterruptedAttempt(claimed(3), T0 + 60_000, settings);
    expect(next.state).toBe('failed');
    expect(next.nextAttemptAt).toBeNull();
    expect(next.lastError).toBe(INTERRUPTED_ATTEMPT_ERROR);
  });

  it('dates the lost attempt now when the record had no claim, and clears claim fields', () => {
    const { claimExpiresAt: _gone, ...unclaimed } = { ...claimed(1), updatedAt: new Date(T0).toISOString() };
    const next = applyInterruptedAttempt(unclaimed, T0 + 5_000, settings);
    expect(next.attempts[0].at).toBe(new Date(T0 + 5_000).toISOString());
    expect(next.updatedAt).toBe(new Date(T0 + 5_000).toISOString());
    expect(next.claimToken).toBeUndefined();
    expect(next.claimExpiresAt).toBeUndefined();
    expect(next.lastError).toBe(INTERRUPTED_ATTEMPT_ERROR);
    // Operators read this text in the deliveries API.
    expect(INTERRUPTED_ATTEMPT_ERROR).toBe(
      'attempt interrupted: the worker stopped before recording its outcome',
    );
  });
});
