import { ErrorCode } from '../../common/errors';
import { BackgroundLoop } from '../../infra/scheduling/background-loop.service';
import { buildAutoStopHarness } from '../../../test/fakes/auto-stop-unit-harness';
import { AutoStopJob } from './auto-stop.job';
import { AutoStopService } from './auto-stop.service';

const MIN = 60_000;

function build(env: Record<string, string> = {}) {
  const t = buildAutoStopHarness({
    AUTO_STOP_MIN_IDLE_MINUTES: '5',
    AUTO_STOP_MAX_IDLE_MINUTES: '60',
    ...env,
  });
  const loop = new BackgroundLoop(t.store);
  const job = new AutoStopJob(loop, t.sweeper, t.check, t.configService);
  job.onModuleInit();
  const service = new AutoStopService(t.store, t.repo, t.idle, t.sweeper, job, t.configService);
  return { ...t, loop, job, service };
}

describe('AutoStopService', () => {
  it('rejects a policy outside the bounds with a 400 naming the bound', async () => {
    const t = build();
    const { id } = await t.readyInstance('bounded');
    await expect(t.service.update(id, { idleMinutes: 61 })).rejects.toMatchObject({
      code: ErrorCode.VALIDATION_ERROR,
      message: expect.stringContaining('AUTO_STOP_MAX_IDLE_MINUTES'),
      details: { fields: [{ field: 'idleMinutes' }] },
    });
    await expect(t.service.update(id, { idleMinutes: 4 })).rejects.toMatchObject({
      message: expect.stringContaining('at least 5 (AUTO_STOP_MIN_IDLE_MINUTES)'),
    });
    const noDisable = build({ AUTO_STOP_ALLOW_DISABLE: 'false' });
    const other = await noDisable.readyInstance('forced');
    await expect(noDisable.service.update(other.id, { enabled: false })).rejects.toMatchObject({
      message: expect.stringContaining('AUTO_STOP_ALLOW_DISABLE=false'),
    });
  });

  it('a policy change moves the deadline from the last activity; disabling clears it', async () => {
    const t = build();
    const { id } = await t.readyInstance('tuned');
    const readyAt = Date.parse((await t.repo.get(id))!.readyAt!);
    const res = await t.service.update(id, { idleMinutes: 30, deleteAfterStoppedMinutes: 15 });
    expect(res).toMatchObject({
      managed: true,
      policy: { enabled: true, idleMinutes: 30, action: 'stop', deleteAfterStoppedMinutes: 15 },
      idleDeadline: new Date(readyAt + 30 * MIN).toISOString(),
    });
    // Fields left out keep their value.
    expect((await t.service.update(id, { action: 'delete' })).policy).toMatchObject({
      idleMinutes: 30,
      action: 'delete',
      deleteAfterStoppedMinutes: 15,
    });
    const off = await t.service.update(id, { enabled: false });
    expect(off).toMatchObject({ policy: { enabled: false }, idleDeadline: null });
    // A heartbeat does not bring it back while disabled.
    await t.idle.onHeartbeat((await t.repo.get(id))!, Date.now());
    expect(await t.idle.deadline(id)).toBeNull();
  });

  it('snooze pushes the deadline within AUTO_STOP_MAX_IDLE_MINUTES, and needs one', async () => {
    const t = build();
    const { id } = await t.readyInstance('snoozy');
    const deadline = (await t.idle.deadline(id))!;
    const now = Date.now();
    const res = await t.service.snooze(id, 15, now);
    expect(res.idleDeadline).toBe(new Date(Math.max(deadline, now) + 15 * MIN).toISOString());
    expect(await t.idle.deadline(id)).toBe(Math.max(deadline, now) + 15 * MIN);
    await expect(t.service.snooze(id, 60, now)).rejects.toMatchObject({
      code: ErrorCode.VALIDATION_ERROR,
      message: expect.stringContaining('AUTO_STOP_MAX_IDLE_MINUTES'),
    });
    await t.lifecycle.stop((await t.repo.get(id))!);
    await expect(t.service.snooze(id, 5)).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
  });

  it('trigger: dry run changes nothing; a real trigger runs one pass', async () => {
    const t = build();
    const { id, novitaId } = await t.readyInstance('triggered');
    await t.repo.setIdleDeadline(id, Date.now() - 1_000);
    const calls = t.novita.calls.length;
    const dry = await t.service.trigger(true);
    expect(dry).toMatchObject({ dryRun: true, acted: [{ instanceId: id, action: 'stop' }] });
    expect(t.novita.calls.length).toBe(calls);
    const real = await t.service.trigger(false);
    expect(real).toMatchObject({ dryRun: false, acted: [{ instanceId: id }] });
    expect(t.novita.callsTo('stopInstance').map((c) => c.args[0])).toEqual([novitaId]);
  });

  it('AUTO_STOP_DRY_RUN=true makes every pass a dry run; AUTO_STOP_ENABLED=false schedules nothing', async () => {
    const dry = build({ AUTO_STOP_DRY_RUN: 'true' });
    const a = await dry.readyInstance('dry-config');
    await dry.repo.setIdleDeadline(a.id, Date.now() - 1_000);
    expect(await dry.service.trigger(false)).toMatchObject({ dryRun: true, acted: [{ instanceId: a.id }] });
    expect(dry.novita.callsTo('stopInstance')).toHaveLength(0);

    const off = build({ AUTO_STOP_ENABLED: 'false' });
    expect(off.loop.jobs().map((j) => [j.name, j.enabled])).toEqual([
      ['auto-stop', false],
      ['auto-stop-check', false],
    ]);
    const b = await off.readyInstance('disabled');
    await off.repo.setIdleDeadline(b.id, Date.now() - 1_000);
    await off.loop.tick(Date.now());
    await off.loop.idle('auto-stop');
    expect(off.novita.callsTo('stopInstance')).toHaveLength(0);
    await expect(off.service.trigger(false)).rejects.toMatchObject({ code: ErrorCode.FEATURE_DISABLED });
    expect((await off.service.trigger(true)).acted).toHaveLength(1);
  });

  it('the scheduled pass stops a due instance through the background loop', async () => {
    const t = build();
    const { id, novitaId } = await t.readyInstance('scheduled');
    await t.repo.setIdleDeadline(id, Date.now() - 1_000);
    await t.loop.tick(Date.now());
    await t.loop.idle('auto-stop');
    expect(t.novita.callsTo('stopInstance').map((c) => c.args[0])).toEqual([novitaId]);
    expect((await t.loop.status('auto-stop')).lastRun?.counts).toMatchObject({ stopped: 1 });
    await t.loop.onApplicationShutdown();
  });

  it('stats: tracked, due, next deadline, totals and savings from the instance price', async () => {
    const t = build();
    const a = await t.readyInstance('stat-a');
    const b = await t.readyInstance('stat-b');
    const now = Date.now();
    await t.repo.setIdleDeadline(a.id, now - 1_000);
    await t.repo.setIdleDeadline(b.id, now + 20 * MIN);
    const before = await t.service.stats(now);
    expect(before).toMatchObject({
      enabled: true,
      dryRun: false,
      thresholdMinutes: 10,
      sweepIntervalSeconds: 5,
      tracked: 2,
      dueNow: 1,
      nextDeadline: new Date(now + 20 * MIN).toISOString(),
      totals: { stopped: 0, deleted: 0, gpuHoursSaved: 0, dollarsSaved: 0 },
    });

    await t.sweeper.sweep(now, { dryRun: false });
    // Two hours later the stopped instance (0.17 USD/h, 1 GPU) has saved two hours.
    const later = await t.service.stats(now + 2 * 3_600_000);
    expect(later.totals).toMatchObject({ stopped: 1, gpuHoursSaved: 2, dollarsSaved: 0.34 });
    expect(later.tracked).toBe(1);
    expect(later.lastRun).toMatchObject({ stopped: 1 });
    // The next use closes the window: savings stop growing.
    await t.idle.closeSavings((await t.repo.get(a.id))!, now + 3_600_000);
    const closed = await t.service.stats(now + 5 * 3_600_000);
    expect(closed.totals).toMatchObject({ gpuHoursSaved: 1, dollarsSaved: 0.17 });
  });
});
