import { InstanceRecord } from '../records/instance.types';
import { NEVER_STARTED_GRACE_MS, decideAbsent } from './obsolete.policy';

const DAY = 24 * 3600_000;
const NOW = Date.parse('2026-11-29T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const keep = { removeObsoleteInstances: false, obsoleteInstanceRetentionDays: 7 };
const drop = { removeObsoleteInstances: true, obsoleteInstanceRetentionDays: 7 };

function rec(over: Partial<InstanceRecord>): InstanceRecord {
  return {
    id: 'inst_1',
    name: 'x',
    novitaInstanceId: 'nv1',
    status: 'running',
    createdAt: iso(NOW - 30 * DAY),
    updatedAt: iso(NOW - DAY),
    terminatedAt: null,
    ...over,
  } as InstanceRecord;
}

describe('decideAbsent (obsolete-instance policy)', () => {
  it('leaves an instance with an open operation, and a deleted record, alone', () => {
    expect(decideAbsent(rec({}), true, NOW, keep)).toEqual({ kind: 'leave' });
    expect(decideAbsent(rec({ status: 'deleted' }), false, NOW, keep)).toEqual({ kind: 'leave' });
  });

  it('confirms a live record first, then marks it terminated or removes it per the setting', () => {
    expect(decideAbsent(rec({ status: 'stopped' }), false, NOW, keep)).toEqual({
      kind: 'confirm',
      then: 'mark_terminated',
    });
    expect(decideAbsent(rec({ status: 'running' }), false, NOW, drop)).toEqual({
      kind: 'confirm',
      then: 'remove',
    });
  });

  it('removes a record that never reached Novita only once the grace has passed, and only while creating or starting', () => {
    const created = (age: number) => iso(NOW - age);
    for (const status of ['creating', 'starting'] as const) {
      expect(
        decideAbsent(
          rec({ novitaInstanceId: null, status, createdAt: created(NEVER_STARTED_GRACE_MS + 1) }),
          false,
          NOW,
          keep,
        ),
      ).toEqual({ kind: 'remove', reason: 'Instance never started on Novita' });
      expect(
        decideAbsent(
          rec({ novitaInstanceId: null, status, createdAt: created(NEVER_STARTED_GRACE_MS) }),
          false,
          NOW,
          keep,
        ),
      ).toEqual({ kind: 'leave' });
    }
    expect(
      decideAbsent(
        rec({ novitaInstanceId: null, status: 'failed', createdAt: created(DAY) }),
        false,
        NOW,
        drop,
      ),
    ).toEqual({ kind: 'leave' });
  });

  it('counts retention from terminatedAt (not creation), removing strictly after the retention days', () => {
    const terminated = (ago: number) =>
      rec({ status: 'terminated', terminatedAt: iso(NOW - ago), createdAt: iso(NOW - 400 * DAY) });
    expect(decideAbsent(terminated(7 * DAY), false, NOW, keep)).toEqual({ kind: 'leave' });
    expect(decideAbsent(terminated(7 * DAY + 1), false, NOW, keep)).toEqual({
      kind: 'remove',
      reason: 'Terminated more than 7 days ago',
    });
    expect(decideAbsent(terminated(DAY), false, NOW, { ...keep, obsoleteInstanceRetentionDays: 1 })).toEqual({
      kind: 'leave',
    });
    expect(
      decideAbsent(terminated(DAY + 1), false, NOW, { ...keep, obsoleteInstanceRetentionDays: 1 }),
    ).toMatchObject({
      kind: 'remove',
      reason: 'Terminated more than 1 days ago',
    });
  });

  it('falls back to updatedAt for a terminated record written before terminatedAt existed', () => {
    const old = rec({ status: 'terminated', terminatedAt: undefined, updatedAt: iso(NOW - 8 * DAY) });
    const recent = rec({ status: 'terminated', terminatedAt: undefined, updatedAt: iso(NOW - 2 * DAY) });
    expect(decideAbsent(old, false, NOW, keep).kind).toBe('remove');
    expect(decideAbsent(recent, false, NOW, keep).kind).toBe('leave');
  });
});
