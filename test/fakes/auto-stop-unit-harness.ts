import { AutoStopConsistencyCheck } from '../../src/modules/auto-stop/auto-stop.consistency';
import { AutoStopSweeper } from '../../src/modules/auto-stop/auto-stop.sweeper';
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
  const sweeper = new AutoStopSweeper(
    h.store,
    h.repo,
    h.operations,
    idle,
    h.lifecycle,
    h.novita,
    h.events,
    h.configService,
  );
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

  return { ...h, h, idle, reconciler, sweeper, check, readyInstance };
}

export type AutoStopHarness = ReturnType<typeof buildAutoStopHarness>;
