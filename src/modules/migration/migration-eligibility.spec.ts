import { baseInstance } from '../../../test/fakes/fake-novita-client';
import { NovitaInstance } from '../../infra/novita/novita.types';
import { InstanceRecord } from '../records/instance.types';
import {
  isMigrationRefusal,
  isSpotReclaim,
  isTrackedSpot,
  migrationEligibility,
} from './migration-eligibility';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-01-01T12:00:00Z');

const reclaimed = (over: Partial<NovitaInstance> = {}): NovitaInstance => ({
  ...baseInstance('nv1'),
  status: 'exited',
  spotStatus: 'terminated',
  spotReclaimTime: NOW - 5_000,
  ...over,
});

const record = (over: Partial<InstanceRecord> = {}): InstanceRecord =>
  ({
    id: 'inst_1',
    name: 'a',
    novitaInstanceId: 'nv1',
    status: 'stopped',
    billingMode: 'spot',
    spec: { billingMode: 'spot' },
    activeOperationId: null,
    ...over,
  }) as InstanceRecord;

const ctx = (over: Partial<Parameters<typeof migrationEligibility>[2]> = {}) => ({
  now: NOW,
  lastMigrationAt: null,
  eligibilityIntervalMs: 4 * HOUR,
  activeOperationKind: null,
  ...over,
});

describe('spot reclaim rule (spec)', () => {
  it('is exited + spotReclaimTime set + spotStatus present', () => {
    expect(isSpotReclaim(reclaimed())).toBe(true);
  });

  it.each([
    ['a user stop or an auto-stop (spotReclaimTime "0")', { spotStatus: 'running', spotReclaimTime: null }],
    ['an on-demand instance (spotStatus empty)', { spotStatus: '', spotReclaimTime: NOW }],
    ['a running instance', { status: 'running' }],
    ['an instance being reclaimed, not yet exited', { status: 'running', spotStatus: 'reclaiming' }],
    ['a migrating instance', { status: 'migrating' }],
  ])('never matches %s', (_what, over) => {
    expect(isSpotReclaim(reclaimed(over as Partial<NovitaInstance>))).toBe(false);
  });
});

describe('migrationEligibility', () => {
  it('accepts a reclaimed managed spot instance with no open operation', () => {
    expect(migrationEligibility(reclaimed(), record(), ctx())).toEqual({ eligible: true });
    // Records written before the managed flag existed count as managed.
    expect(migrationEligibility(reclaimed(), record({ managed: undefined }), ctx()).eligible).toBe(true);
  });

  it.each([
    ['not_reclaimed', reclaimed({ spotStatus: 'running', spotReclaimTime: null }), record(), ctx()],
    ['not_spot', reclaimed({ spotStatus: '' }), record({ billingMode: 'onDemand' }), ctx()],
    ['not_exited', reclaimed({ status: 'running' }), record(), ctx()],
    ['not_tracked', reclaimed(), null, ctx()],
    ['not_managed', reclaimed(), record({ managed: false }), ctx()],
    ['deleted', reclaimed(), record({ status: 'deleted' }), ctx()],
    ['migration_in_progress', reclaimed(), record(), ctx({ activeOperationKind: 'migrate' })],
    ['other_operation_in_progress', reclaimed(), record(), ctx({ activeOperationKind: 'stop' })],
    ['migrated_recently', reclaimed(), record(), ctx({ lastMigrationAt: NOW - 3 * HOUR })],
  ])('skips with %s', (reason, n, r, c) => {
    expect(migrationEligibility(n, r, c)).toMatchObject({ eligible: false, reason });
  });

  it('migrates again once MIGRATION_ELIGIBILITY_INTERVAL_HOURS have passed since the last migration', () => {
    expect(
      migrationEligibility(reclaimed(), record(), ctx({ lastMigrationAt: NOW - 4 * HOUR })).eligible,
    ).toBe(true);
  });
});

describe('isTrackedSpot (what the quick check reads)', () => {
  it('is a managed spot record with a Novita id that still exists', () => {
    expect(isTrackedSpot(record({ status: 'ready' }))).toBe(true);
    expect(isTrackedSpot(record({ status: 'stopped' }))).toBe(true);
    expect(
      isTrackedSpot(record({ billingMode: 'onDemand', spec: { billingMode: 'onDemand' } as never })),
    ).toBe(false);
    expect(isTrackedSpot(record({ managed: false }))).toBe(false);
    expect(isTrackedSpot(record({ novitaInstanceId: null }))).toBe(false);
    expect(isTrackedSpot(record({ status: 'deleted' }))).toBe(false);
    expect(isTrackedSpot(record({ status: 'terminated' }))).toBe(false);
  });
});

describe('spot reclaim rule: edges', () => {
  it('treats a blank (whitespace) spotStatus as not spot, in both the rule and eligibility', () => {
    expect(isSpotReclaim(reclaimed({ spotStatus: '   ' }))).toBe(false);
    expect(isSpotReclaim(reclaimed({ spotStatus: '' }))).toBe(false);
    expect(isSpotReclaim(reclaimed({ spotReclaimTime: null }))).toBe(false);
    expect(isSpotReclaim(reclaimed({ status: 'running' }))).toBe(false);
    expect(migrationEligibility(reclaimed({ spotStatus: '  ' }), record(), ctx())).toEqual({
      eligible: false,
      reason: 'not_spot',
      detail: 'spotStatus is empty (not a spot instance)',
    });
  });

  it('says why each ineligible instance is skipped', () => {
    const why = (n: NovitaInstance, r: InstanceRecord | null, c = ctx()) => migrationEligibility(n, r, c);
    expect(why(reclaimed({ status: 'running' }), record())).toEqual({
      eligible: false,
      reason: 'not_exited',
      detail: 'status is running',
    });
    expect(why(reclaimed({ spotReclaimTime: null }), record())).toEqual({
      eligible: false,
      reason: 'not_reclaimed',
      detail: 'spotReclaimTime is "0" (stopped, not reclaimed)',
    });
    expect(why(reclaimed(), null)).toEqual({
      eligible: false,
      reason: 'not_tracked',
      detail: 'not an instance of this service',
    });
    expect(why(reclaimed(), record({ managed: false }))).toEqual({
      eligible: false,
      reason: 'not_managed',
      detail: 'managed is false (found on Novita, not adopted)',
    });
    for (const status of ['deleted', 'deleting'] as const)
      expect(why(reclaimed(), record({ status }))).toEqual({
        eligible: false,
        reason: 'deleted',
        detail: `instance is ${status}`,
      });
    expect(why(reclaimed(), record(), ctx({ activeOperationKind: 'migrate' }))).toEqual({
      eligible: false,
      reason: 'migration_in_progress',
      detail: 'a migration of this instance is already open',
    });
    expect(why(reclaimed(), record(), ctx({ activeOperationKind: 'stop' }))).toEqual({
      eligible: false,
      reason: 'other_operation_in_progress',
      detail: 'a stop operation is open',
    });
  });

  it('counts the eligibility interval strictly: at exactly the interval the instance is eligible again', () => {
    const last = NOW - 4 * HOUR;
    expect(migrationEligibility(reclaimed(), record(), ctx({ lastMigrationAt: last }))).toEqual({
      eligible: true,
    });
    expect(migrationEligibility(reclaimed(), record(), ctx({ lastMigrationAt: last + 1 }))).toEqual({
      eligible: false,
      reason: 'migrated_recently',
      detail: `reclaimed again within 4 h of its last migration (${new Date(last + 1).toISOString()})`,
    });
  });

  it('classifies exactly the refusals after which Novita started no migration', () => {
    for (const code of ['INSUFFICIENT_RESOURCES', 'UPSTREAM_BAD_REQUEST', 'INVALID_STATE', 'NOT_FOUND'])
      expect(isMigrationRefusal(code)).toBe(true);
    for (const code of ['UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL_ERROR', ''])
      expect(isMigrationRefusal(code)).toBe(false);
  });

  it('tracks spot records by their own or their spec billing mode, not while gone or still creating', () => {
    expect(isTrackedSpot(record({ billingMode: 'onDemand', spec: { billingMode: 'spot' } as never }))).toBe(
      true,
    );
    expect(isTrackedSpot(record({ billingMode: 'spot', spec: { billingMode: 'onDemand' } as never }))).toBe(
      true,
    );
    expect(
      isTrackedSpot(record({ billingMode: 'onDemand', spec: { billingMode: 'onDemand' } as never })),
    ).toBe(false);
    expect(isTrackedSpot(record({ novitaInstanceId: null }))).toBe(false);
    expect(isTrackedSpot(record({ managed: false }))).toBe(false);
    for (const status of ['deleted', 'deleting', 'terminated', 'creating'] as const)
      expect(isTrackedSpot(record({ status }))).toBe(false);
    for (const status of ['stopped', 'running', 'ready', 'migrating'] as const)
      expect(isTrackedSpot(record({ status }))).toBe(true);
  });
});
