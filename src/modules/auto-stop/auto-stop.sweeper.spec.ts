import { AppError, ErrorCode } from '../../common/errors';
import { AutoStopHarness, buildAutoStopHarness } from '../../../test/fakes/auto-stop-unit-harness';
import { countingStore } from '../../../test/support/counting-store';
import { AUTOSTOP_DEADLINES_KEY, instanceKey } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';
import { InstanceUsageService } from '../instances/instance-usage.service';
import { AutoStopSweeper, ERROR_RETRY_MS } from './auto-stop.sweeper';

const MIN = 60_000;

describe('AutoStopSweeper', () => {
  let t: AutoStopHarness;
  beforeEach(() => {
    t = buildAutoStopHarness();
  });
  const record = async (id: string) => (await t.repo.get(id))!;
  const eventsOf = (id: string) => t.emitter.emitted.filter((e) => e.instanceId === id).map((e) => e.type);

  it('starts the deadline at readiness and stops the instance once it passes, with warning and events once', async () => {
    const { id, novitaId } = await t.readyInstance('idle-one');
    const readyAt = Date.parse((await record(id)).readyAt!);
    const deadline = (await t.idle.deadline(id))!;
    expect(deadline).toBe(readyAt + 10 * MIN);

    // Before the warning window: nothing.
    expect((await t.sweeper.sweep(deadline - 3 * MIN, { dryRun: false })).due).toBe(0);
    // In the warning window: one warning, however many passes.
    const w = await t.sweeper.sweep(deadline - 90_000, { dryRun: false });
    expect(w.warned).toEqual([id]);
    await t.sweeper.sweep(deadline - 60_000, { dryRun: false });
    expect(eventsOf(id).filter((e) => e === 'instance.idle_warning')).toHaveLength(1);
    const warning = t.emitter.emitted.find((e) => e.type === 'instance.idle_warning')!;
    expect(warning.data.autoStop).toMatchObject({
      idleDeadline: new Date(deadline).toISOString(),
      snoozeUrl: `/api/instances/${id}/auto-stop/snooze`,
    });
    expect(t.novita.callsTo('stopInstance')).toHaveLength(0);

    const report = await t.sweeper.sweep(deadline + 1_000, { dryRun: false });
    expect(report.acted).toHaveLength(1);
    expect(report.acted[0]).toMatchObject({ instanceId: id, action: 'stop' });
    expect(t.novita.callsTo('stopInstance').map((c) => c.args[0])).toEqual([novitaId]);
    const r = await record(id);
    expect(r.status).toBe('stopping');
    expect(await t.idle.deadline(id)).toBeNull();
    const stopped = t.emitter.emitted.find((e) => e.type === 'instance.auto_stopped')!;
    expect(stopped.data.autoStop).toMatchObject({
      operationId: r.activeOperationId,
      idleDeadline: new Date(deadline).toISOString(),
      policy: { enabled: true, idleMinutes: 10, action: 'stop', deleteAfterStoppedMinutes: null },
    });
    expect((stopped.data.autoStop as { idleSeconds: number }).idleSeconds).toBeGreaterThanOrEqual(600);

    // The ordinary stop events follow through the reconciler.
    t.novita.setStatus(novitaId, 'exited');
    await t.reconciler.reconcileOnce(Date.now() + 1_000);
    await t.sweeper.sweep(deadline + 10_000, { dryRun: false });
    expect(eventsOf(id).filter((e) => e.startsWith('instance.') && e !== 'instance.created')).toEqual([
      'instance.running',
      'instance.ready',
      'instance.idle_warning',
      'instance.stopping',
      'instance.auto_stopped',
      'instance.stopped',
    ]);
    expect(t.novita.callsTo('stopInstance')).toHaveLength(1);
  });

  it('a heartbeat before the deadline prevents the stop', async () => {
    const { id } = await t.readyInstance('busy');
    const deadline = (await t.idle.deadline(id))!;
    await t.idle.onHeartbeat(await record(id), deadline - MIN);
    const report = await t.sweeper.sweep(deadline + 1_000, { dryRun: false });
    expect(report.acted).toEqual([]);
    expect(t.novita.callsTo('stopInstance')).toHaveLength(0);
    expect(await t.idle.deadline(id)).toBe(deadline + 9 * MIN);
  });

  it('never stops an unmanaged instance, and drops its deadline', async () => {
    const { id } = await t.readyInstance('foreign');
    await t.repo.save({ ...(await record(id)), managed: false, lastUsedAt: '2020-01-01T00:00:00.000Z' });
    await t.repo.setIdleDeadline(id, Date.now() - 3_600_000);
    const report = await t.sweeper.sweep(Date.now(), { dryRun: false });
    expect(report.skipped).toEqual([{ instanceId: id, reason: 'not managed by this service' }]);
    expect(t.novita.callsTo('stopInstance')).toHaveLength(0);
    expect(await t.idle.deadline(id)).toBeNull();
  });

  it('retries an instance in another operation next pass, and stops it once that is over', async () => {
    const { id, novitaId } = await t.readyInstance('mid-op');
    // A readiness re-check (start of a running instance) opens an operation.
    await t.lifecycle.start(await record(id));
    await t.repo.setIdleDeadline(id, Date.now() - 1_000);
    const first = await t.sweeper.sweep(Date.now(), { dryRun: false });
    expect(first.retried).toEqual([id]);
    expect(t.novita.callsTo('stopInstance')).toHaveLength(0);
    expect(await t.idle.deadline(id)).not.toBeNull();

    await t.reconciler.reconcileOnce(Date.now() + 1_000);
    // Readiness restarted the idle clock; make it due again.
    await t.repo.setIdleDeadline(id, Date.now() - 1_000);
    const second = await t.sweeper.sweep(Date.now(), { dryRun: false });
    expect(second.acted.map((c) => c.instanceId)).toEqual([id]);
    expect(t.novita.callsTo('stopInstance').map((c) => c.args[0])).toEqual([novitaId]);
  });

  it('clears the deadline of an instance Novita no longer runs, without a stop call', async () => {
    const { id, novitaId } = await t.readyInstance('gone-quiet');
    t.novita.setStatus(novitaId, 'exited');
    await t.repo.setIdleDeadline(id, Date.now() - 1_000);
    const report = await t.sweeper.sweep(Date.now(), { dryRun: false });
    expect(report.skipped).toEqual([{ instanceId: id, reason: 'not running on Novita (stopped)' }]);
    expect(t.novita.callsTo('stopInstance')).toHaveLength(0);
    expect(await t.idle.deadline(id)).toBeNull();
  });

  it('dry run lists exactly what the real pass then stops, without calling Novita or changing anything', async () => {
    const a = await t.readyInstance('dry-a');
    const b = await t.readyInstance('dry-b');
    const c = await t.readyInstance('dry-c');
    await t.repo.save({ ...(await record(c.id)), managed: false });
    const now = Date.now();
    for (const x of [a, b, c]) await t.repo.setIdleDeadline(x.id, now - 1_000);
    await t.repo.setIdleDeadline(b.id, now + 3_600_000);
    const callsBefore = t.novita.calls.length;
    const emittedBefore = t.emitter.attempts.length;
    const dry = await t.sweeper.sweep(now, { dryRun: true });
    expect(t.novita.calls.length).toBe(callsBefore);
    expect(t.emitter.attempts.length).toBe(emittedBefore);
    expect(await t.idle.deadline(c.id)).toBe(now - 1_000);
    expect(dry.acted.map((x) => x.instanceId)).toEqual([a.id]);
    expect(dry.acted[0].reason).toMatch(/deadline .* passed/);

    const real = await t.sweeper.sweep(now, { dryRun: false });
    expect(real.acted.map((x) => x.instanceId)).toEqual(dry.acted.map((x) => x.instanceId));
    expect(t.novita.callsTo('stopInstance').map((x) => x.args[0])).toEqual([a.novitaId]);
  });

  it('stop-then-delete: deleted deleteAfterStoppedMinutes after the stop, with events', async () => {
    const { id, novitaId } = await t.readyInstance('temp', {
      autoStop: { idleMinutes: 5, deleteAfterStoppedMinutes: 30 },
    });
    const deadline = (await t.idle.deadline(id))!;
    await t.sweeper.sweep(deadline + 1_000, { dryRun: false });
    t.novita.setStatus(novitaId, 'exited');
    await t.reconciler.reconcileOnce(Date.now() + 1_000);
    expect((await record(id)).status).toBe('stopped');
    const deleteAt = await t.store.sortedSetScore(AUTOSTOP_DEADLINES_KEY, `del:${id}`);
    expect(deleteAt).toBe(deadline + 1_000 + 30 * MIN);

    expect((await t.sweeper.sweep(deleteAt! - 1_000, { dryRun: false })).acted).toEqual([]);
    const report = await t.sweeper.sweep(deleteAt! + 1_000, { dryRun: false });
    expect(report.acted).toMatchObject([{ instanceId: id, action: 'delete' }]);
    expect(t.novita.callsTo('deleteInstance').map((c) => c.args[0])).toEqual([novitaId]);
    expect((await record(id)).status).toBe('deleted');
    const types = eventsOf(id);
    expect(types.filter((e) => e === 'instance.auto_stopped')).toHaveLength(1);
    expect(types.filter((e) => e === 'instance.auto_deleted')).toHaveLength(1);
    expect(types.filter((e) => e === 'instance.deleted')).toHaveLength(1);
    expect(await t.store.sortedSetScore(AUTOSTOP_DEADLINES_KEY, `del:${id}`)).toBeNull();
  });

  it('stop-then-delete: a start in between cancels the delete', async () => {
    const { id, novitaId } = await t.readyInstance('comeback', {
      autoStop: { idleMinutes: 5, deleteAfterStoppedMinutes: 30 },
    });
    const deadline = (await t.idle.deadline(id))!;
    await t.sweeper.sweep(deadline + 1_000, { dryRun: false });
    t.novita.setStatus(novitaId, 'exited');
    await t.reconciler.reconcileOnce(Date.now() + 1_000);
    await t.lifecycle.start(await record(id));
    t.novita.setStatus(novitaId, 'running');
    await t.reconciler.reconcileOnce(Date.now() + 2_000);
    await t.reconciler.reconcileOnce(Date.now() + 3_000);
    expect((await record(id)).status).toBe('ready');
    expect(await t.store.sortedSetScore(AUTOSTOP_DEADLINES_KEY, `del:${id}`)).toBeNull();
    await t.sweeper.sweep(deadline + 31 * MIN, { dryRun: false });
    expect(t.novita.callsTo('deleteInstance')).toHaveLength(0);
    expect(eventsOf(id)).not.toContain('instance.auto_deleted');
  });

  it('action delete deletes the idle instance instead of stopping it', async () => {
    const { id, novitaId } = await t.readyInstance('throwaway', { autoStop: { action: 'delete' } });
    const deadline = (await t.idle.deadline(id))!;
    await t.sweeper.sweep(deadline + 1_000, { dryRun: false });
    expect(t.novita.callsTo('stopInstance')).toHaveLength(0);
    expect(t.novita.callsTo('deleteInstance').map((c) => c.args[0])).toEqual([novitaId]);
    expect(eventsOf(id).filter((e) => e === 'instance.auto_deleted')).toHaveLength(1);
  });

  it.each([['2'], ['0']])(
    'backs off after a failed stop and finishes it later, one auto_stopped event (warning %s min)',
    async (warning) => {
      t = buildAutoStopHarness({ AUTO_STOP_WARNING_MINUTES: warning });
      const { id } = await t.readyInstance('flaky');
      const deadline = (await t.idle.deadline(id))!;
      t.novita.failNext('stopInstance', new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, 'Novita is down'));
      const failed = await t.sweeper.sweep(deadline + 1_000, { dryRun: false });
      expect(failed.errors).toHaveLength(1);
      // Not retried on every pass: the next pass within the back-off does nothing.
      const soon = await t.sweeper.sweep(deadline + 6_000, { dryRun: false });
      expect(soon.retried).toEqual([id]);
      expect(t.novita.callsTo('stopInstance')).toHaveLength(1);
      // The unanswered stop left a write-ahead intent; the reconciler settles it from Novita (still running).
      await t.reconciler.reconcileOnce(Date.now() + 1_000);

      const later = await t.sweeper.sweep(deadline + 2_000 + ERROR_RETRY_MS, { dryRun: false });
      expect(later.acted.map((c) => c.instanceId)).toEqual([id]);
      expect(t.novita.callsTo('stopInstance')).toHaveLength(2);
      expect(eventsOf(id).filter((e) => e === 'instance.auto_stopped')).toHaveLength(1);
      // Marker and deadline are gone: nothing left to do.
      expect((await t.sweeper.sweep(deadline + 3 * ERROR_RETRY_MS, { dryRun: false })).due).toBe(0);
    },
  );

  it('a disabled policy gets no deadline at readiness', async () => {
    const { id } = await t.readyInstance('opted-out', { autoStop: { enabled: false } });
    expect(await t.idle.deadline(id)).toBeNull();
  });

  it('a pass with nothing due is one store round trip, however many instances are tracked', async () => {
    const now = Date.now();
    for (let i = 0; i < 500; i++) await t.repo.setIdleDeadline(`inst_${i}`, now + 3_600_000 + i);
    const counting = countingStore(t.store);
    const sweeper = new AutoStopSweeper(
      counting.store,
      t.repo,
      t.operations,
      t.idle,
      t.lifecycle,
      t.novita,
      t.events,
      t.configService,
    );
    await sweeper.sweep(now, { dryRun: false });
    expect(counting.calls).toEqual(['sortedSetRangeByScore']);
  });

  it('the consistency check adds a missing deadline and drops stale ones', async () => {
    const { id } = await t.readyInstance('untracked');
    await t.repo.clearIdleDeadline(id);
    await t.repo.setIdleDeadline('inst_vanished', Date.now() + MIN);
    const before = Date.now();
    const report = await t.check.run(before, { dryRun: false });
    expect(report).toMatchObject({ added: 1, removed: 1 });
    expect(await t.idle.deadline(id)).toBe(before + 10 * MIN);
    expect(await t.idle.deadline('inst_vanished')).toBeNull();
  });

  it('records a user stop as the end of the idle clock (stop clears the deadline)', async () => {
    const { id } = await t.readyInstance('user-stopped');
    await t.lifecycle.stop(await record(id));
    expect(await t.idle.deadline(id)).toBeNull();
    const rec = (await t.store.get<InstanceRecord>(instanceKey(id)))!;
    expect(rec.status).toBe('stopping');
  });
});

describe('heartbeats (InstanceUsageService)', () => {
  it("use the instance's idleMinutes, and set no deadline while the instance is not running", async () => {
    const t = buildAutoStopHarness();
    const usage = new InstanceUsageService(t.repo, t.lifecycle, t.events, t.idle);
    const { id, novitaId } = await t.readyInstance('hb', { autoStop: { idleMinutes: 45 } });
    const at = Date.now() - 5 * MIN;
    const res = await usage.updateLastUsed((await t.repo.get(id))!, new Date(at).toISOString());
    expect(res.idleDeadline).toBe(new Date(at + 45 * MIN).toISOString());
    expect(await t.idle.deadline(id)).toBe(at + 45 * MIN);

    await t.lifecycle.stop((await t.repo.get(id))!);
    t.novita.setStatus(novitaId, 'exited');
    await t.reconciler.reconcileOnce(Date.now() + 1_000);
    const stopped = await usage.updateLastUsed((await t.repo.get(id))!, undefined);
    expect(stopped.idleDeadline).toBeNull();
    expect(await t.idle.deadline(id)).toBeNull();
    expect((await t.repo.get(id))!.lastUsedAt).toBe(stopped.lastUsedAt);
  });
});
