import { AutoStopE2e, sleep, startAutoStopE2e } from './auto-stop.e2e.harness';

const MIN = 60_000;

// SIGKILL while the auto-stop's Novita stop call is in flight (the simulator holds it unanswered):
// the action marker written before the call survives in Redis, and the restarted service finishes
// the stop with one effective stop call and each event once.
describe('auto-stop survives a SIGKILL mid-action (e2e, Redis)', () => {
  let t: AutoStopE2e;

  beforeAll(async () => {
    t = await startAutoStopE2e(
      { AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES: '30', AUTO_STOP_WARNING_MINUTES: '0' },
      23,
    );
    await t.start();
  }, 90_000);

  afterAll(async () => {
    await t?.close();
  });

  it('stops the instance once after a restart, events once', async () => {
    const x = await t.createReady('killed-mid-stop');
    t.sim.sim.injectFaults({ hang: true, paths: ['/gpu/instance/stop'] });
    await t.request('PUT', `/api/instances/${x.instanceId}/last-used`, {
      lastUsedAt: new Date(Date.now() - 30 * MIN + 2_000).toISOString(),
    });
    // Wait until the stop call reached "Novita" (logged, unanswered), then kill the service.
    const deadline = Date.now() + 30_000;
    while (t.stopCalls(x.novitaInstanceId).length === 0 && Date.now() < deadline) await sleep(100);
    expect(t.stopCalls(x.novitaInstanceId)).toEqual([{ at: expect.any(Number), status: 0 }]);
    expect((await t.deadlineMembers()).some((m) => m.startsWith(`act:${x.instanceId}@`))).toBe(true);
    await t.replicas[0].kill('SIGKILL');
    t.replicas.length = 0;
    t.sim.sim.clearFaults();
    expect(t.eventsOf(x.instanceId, 'instance.auto_stopped')).toEqual([]);

    await t.start();
    await t.waitForEvent('instance.stopped', x.instanceId, 90_000);
    await sleep(2_000);
    const answered = t.stopCalls(x.novitaInstanceId).filter((c) => c.status !== 0);
    expect(answered).toEqual([{ at: expect.any(Number), status: 200 }]);
    for (const type of ['instance.stopping', 'instance.auto_stopped', 'instance.stopped']) {
      const events = t.eventsOf(x.instanceId, type);
      expect({ type, count: events.length }).toEqual({ type, count: 1 });
      expect(events[0].verified).toBe(true);
    }
    expect(await t.deadlineMembers()).toEqual([]);
  }, 180_000);
});
