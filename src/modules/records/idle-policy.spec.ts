import {
  IdleBounds,
  deadlineAfter,
  effectivePolicy,
  hasIdleClock,
  isSubjectToAutoStop,
  lastActivityMs,
  mergePolicy,
  policyViolations,
  savingsOf,
  snoozedDeadline,
} from './idle-policy';
import { InstanceRecord } from './instance.types';

const bounds: IdleBounds = {
  defaultIdleMinutes: 20,
  minIdleMinutes: 5,
  maxIdleMinutes: 120,
  allowDisable: true,
};
const record = (patch: Partial<InstanceRecord>): InstanceRecord =>
  ({
    id: 'inst_1',
    status: 'ready',
    novitaStatus: 'running',
    lastUsedAt: null,
    readyAt: null,
    startedAt: null,
    ...patch,
  }) as InstanceRecord;

describe('idle policy', () => {
  it('names the bound a request exceeds', () => {
    expect(policyViolations({ idleMinutes: 4 }, bounds)).toEqual([
      { field: 'idleMinutes', messages: ['idleMinutes must be at least 5 (AUTO_STOP_MIN_IDLE_MINUTES)'] },
    ]);
    expect(policyViolations({ idleMinutes: 121 }, bounds)[0].messages[0]).toContain(
      'at most 120 (AUTO_STOP_MAX_IDLE_MINUTES)',
    );
    expect(policyViolations({ idleMinutes: 5 }, bounds)).toEqual([]);
    expect(policyViolations({ idleMinutes: 120, enabled: false }, bounds)).toEqual([]);
    expect(policyViolations({ enabled: false }, { ...bounds, allowDisable: false })[0]).toMatchObject({
      field: 'enabled',
      messages: [expect.stringContaining('AUTO_STOP_ALLOW_DISABLE=false')],
    });
  });

  it('fills defaults and clamps stored policies to the current bounds', () => {
    expect(effectivePolicy(null, bounds)).toEqual({
      enabled: true,
      idleMinutes: 20,
      action: 'stop',
      deleteAfterStoppedMinutes: null,
    });
    expect(effectivePolicy({ idleMinutes: 1 }, bounds).idleMinutes).toBe(5);
    expect(effectivePolicy({ idleMinutes: 500 }, bounds).idleMinutes).toBe(120);
    // An operator who forbids disabling later overrides earlier opt-outs.
    expect(effectivePolicy({ enabled: false }, { ...bounds, allowDisable: false }).enabled).toBe(true);
    expect(effectivePolicy({ action: 'delete', deleteAfterStoppedMinutes: 30 }, bounds)).toMatchObject({
      action: 'delete',
      deleteAfterStoppedMinutes: 30,
    });
  });

  it('merges an update over the stored request, keeping fields left out', () => {
    expect(mergePolicy({ idleMinutes: 30, action: 'delete' }, { enabled: false })).toEqual({
      idleMinutes: 30,
      action: 'delete',
      enabled: false,
    });
    expect(mergePolicy({ deleteAfterStoppedMinutes: 10 }, { deleteAfterStoppedMinutes: null })).toEqual({
      deleteAfterStoppedMinutes: null,
    });
  });

  it('applies only to managed instances with the policy on', () => {
    expect(isSubjectToAutoStop(record({}), bounds)).toBe(true);
    expect(isSubjectToAutoStop(record({ managed: false }), bounds)).toBe(false);
    expect(isSubjectToAutoStop(record({ autoStop: { enabled: false } }), bounds)).toBe(false);
  });

  it('runs the idle clock only while the instance is up', () => {
    expect(hasIdleClock(record({ status: 'ready' }))).toBe(true);
    expect(hasIdleClock(record({ status: 'running' }))).toBe(true);
    expect(hasIdleClock(record({ status: 'stopped', novitaStatus: 'exited' }))).toBe(false);
    expect(hasIdleClock(record({ status: 'failed', novitaStatus: 'running' }))).toBe(true);
    expect(hasIdleClock(record({ status: 'failed', novitaStatus: 'exited' }))).toBe(false);
  });

  it('starts the idle clock at the last heartbeat, else readiness, else start', () => {
    const t = (iso: string) => Date.parse(iso);
    const r = record({
      startedAt: '2026-01-01T00:00:00.000Z',
      readyAt: '2026-01-01T00:01:00.000Z',
      lastUsedAt: '2026-01-01T00:05:00.000Z',
    });
    expect(lastActivityMs(r)).toBe(t('2026-01-01T00:05:00.000Z'));
    expect(lastActivityMs({ ...r, lastUsedAt: null })).toBe(t('2026-01-01T00:01:00.000Z'));
    expect(lastActivityMs({ ...r, lastUsedAt: null, readyAt: null })).toBe(t('2026-01-01T00:00:00.000Z'));
    expect(lastActivityMs(record({}))).toBeNull();
    expect(deadlineAfter(1_000, effectivePolicy({ idleMinutes: 7 }, bounds))).toBe(1_000 + 7 * 60_000);
  });

  it('snoozes from the later of deadline and now, within AUTO_STOP_MAX_IDLE_MINUTES', () => {
    const now = 10_000_000;
    expect(snoozedDeadline(now + 60_000, now, 10, bounds)).toEqual({ deadlineMs: now + 11 * 60_000 });
    // An overdue deadline is pushed from now.
    expect(snoozedDeadline(now - 60_000, now, 10, bounds)).toEqual({ deadlineMs: now + 10 * 60_000 });
    const tooFar = snoozedDeadline(now + 100 * 60_000, now, 30, bounds);
    expect(tooFar).toEqual({
      violation: {
        field: 'minutes',
        messages: [expect.stringMatching(/120 minutes \(AUTO_STOP_MAX_IDLE_MINUTES\).*at most 20 more/)],
      },
    });
  });

  it('computes savings from price and the time the instance would have run', () => {
    const s = savingsOf(0, 90 * 60_000, 0.7, 2);
    expect(s.hours).toBeCloseTo(1.5);
    expect(s.gpuHours).toBeCloseTo(3);
    expect(s.dollars).toBeCloseTo(1.05);
    expect(savingsOf(100, 50, 1, 1).hours).toBe(0);
    expect(savingsOf(0, 3_600_000, null, 1).dollars).toBe(0);
  });
});
