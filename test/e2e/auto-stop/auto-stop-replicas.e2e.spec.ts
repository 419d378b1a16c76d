import { AutoStopE2e, sleep, startAutoStopE2e } from './auto-stop.e2e.harness';

const MIN = 60_000;

// Three replicas of the service on one Redis. The sweep interval is long (60 s) so that the dry run
// and the real pass that follows it are not raced by a scheduled pass; the scheduled pass is then
// waited for explicitly.
describe('auto-stop with three replicas (e2e, Redis)', () => {
  let t: AutoStopE2e;

  beforeAll(async () => {
    t = await startAutoStopE2e(
      {
        AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES: '30',
        AUTO_STOP_WARNING_MINUTES: '0',
        AUTO_STOP_SWEEP_INTERVAL_SECONDS: '60',
      },
      22,
    );
    await Promise.all([t.start(), t.start(), t.start()]);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  const overdue = () => new Date(Date.now() - 30 * MIN - 1_000).toISOString();

  it('dry run lists exactly what the real passes stop; concurrent passes on three replicas make one stop call per instance', async () => {
    const due = await Promise.all(['r-a', 'r-b', 'r-c'].map((n) => t.createReady(n)));
    const fresh = await t.createReady('r-fresh');
    const foreign = await t.createReady('r-foreign');
    for (const x of [...due, foreign])
      expect(
        (await t.request('PUT', `/api/instances/${x.instanceId}/last-used`, { lastUsedAt: overdue() }))
          .status,
      ).toBe(200);
    await t.patchRecord(foreign.instanceId, { managed: false });
    const callsBefore = t.sim.sim.callLog().length;

    const dry = await t.request('POST', '/api/instances/auto-stop/trigger', { dryRun: true }, 1);
    expect(dry.status).toBe(200);
    expect(t.sim.sim.callLog().length).toBe(callsBefore);
    const listed = dry.body.acted.map((c: { instanceId: string }) => c.instanceId).sort();
    expect(listed).toEqual(due.map((x) => x.instanceId).sort());
    for (const c of dry.body.acted) expect(c.reason).toMatch(/deadline .* passed/);

    const passes = await Promise.all(
      [0, 1, 2].map((i) => t.request('POST', '/api/instances/auto-stop/trigger', { dryRun: false }, i)),
    );
    for (const p of passes) expect([200, 409]).toContain(p.status);
    for (const x of due) await t.waitForEvent('instance.stopped', x.instanceId, 30_000);
    for (const x of due) expect(t.stopCalls(x.novitaInstanceId)).toHaveLength(1);
    expect(t.stopCalls(fresh.novitaInstanceId)).toEqual([]);
    expect(t.stopCalls(foreign.novitaInstanceId)).toEqual([]);
    await sleep(1_000);
    for (const x of due) expect(t.eventsOf(x.instanceId, 'instance.auto_stopped')).toHaveLength(1);
  }, 180_000);

  it('the scheduled pass runs on one replica: each due instance gets one stop call', async () => {
    const batch = await Promise.all(['s-a', 's-b', 's-c', 's-d'].map((n) => t.createReady(n)));
    for (const x of batch)
      await t.request('PUT', `/api/instances/${x.instanceId}/last-used`, { lastUsedAt: overdue() });
    // Within one sweep interval (60 s) plus slack, whichever replica holds the lease acts.
    for (const x of batch) await t.waitForEvent('instance.stopped', x.instanceId, 90_000);
    await sleep(2_000);
    for (const x of batch) {
      expect(t.stopCalls(x.novitaInstanceId)).toHaveLength(1);
      expect(t.eventsOf(x.instanceId, 'instance.auto_stopped')).toHaveLength(1);
    }
  }, 150_000);
});
