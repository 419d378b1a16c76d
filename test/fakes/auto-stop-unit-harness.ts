import { StateStore } from '../../src/infra/store/state-store';
import { AutoStopConsistencyCheck } from '../../src/modules/auto-stop/auto-stop.consistency';
import { AutoStopDeleteAfterStop } from '../../src/modules/auto-stop/auto-stop.delete-after-stop';
import { AutoStopIdleAction } from '../../src/modules/auto-stop/auto-stop.idle-action';
import { AutoStopSweepSteps } from '../../src/modules/auto-stop/auto-stop.sweep-steps';
import { AutoStopSweeper } from '../../src/modules/auto-stop/auto-stop.sweeper';
import { AutoStopWarnings } from '../../src/modules/auto-stop/auto-stop.warnings';
import { IdleDeadlines } from '../../src/modules/records/idle-deadlines';
import { ReconcilerService } from '../../src/modules/instances/operations/reconciler.service';
import { buildInstancesHarness } from './instances-unit-harness';

/** The instances harness plus idle deadlines (wired into the reconciler, as in the app) and the sweeper. */
export function buildAutoStopHarness(env: Record<string, string> = {}) {
  const h = buildInstancesHarness({
    AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES: '10',
    AUTO_STOP_WARNING_MINUTES: '2',
    ...env,
  });
  const idle = new IdleDeadlines(h.repo, h.store, h.configService);
  const reconciler = new ReconcilerService(
    h.operations,
    h.repo,
    h.novita,
    h.events,
    h.prober,
    h.intents,
    h.configService,
    idle,
  );
  /** The sweeper and its parts, every one over the given store (a spec may wrap it to count round trips). */
  function sweeperOn(store: StateStore): AutoStopSweeper {
    const steps = new AutoStopSweepSteps(store, h.operations, idle, h.novita, h.events);
    return new AutoStopSweeper(
      store,
      steps,
      new AutoStopWarnings(idle, h.events, steps, h.configService),
      new AutoStopIdleAction(store, idle, h.lifecycle, steps),
      new AutoStopDeleteAfterStop(store, idle, h.lifecycle, steps),
      h.configService,
    );
  }
  const sweeper = sweeperOn(h.store);
  const check = new AutoStopConsistencyCheck(h.store, h.repo, idle);

  /** Creates an instance and brings it to ready through the reconciler; returns its ids. */
  async function readyInstance(name: string, extra: Record<string, unknown> = {}) {
    const res = await h.creator.create({
      name,
      productName: 'RTX 4090',
      templateId: 't1',
      ...extra,
    } as never);
    h.novita.setStatus(res.novitaInstanceId, 'running', {
      portMappings: [{ port: 8080, type: 'http', endpoint: 'http://127.0.0.1:1' }],
    });
    await reconciler.reconcileOnce(Date.now());
    return { id: res.instanceId, novitaId: res.novitaInstanceId };
  }

  return { ...h, h, idle, reconciler, sweeper, sweeperOn, check, readyInstance };
}

export type AutoStopHarness = ReturnType<typeof buildAutoStopHarness>;
