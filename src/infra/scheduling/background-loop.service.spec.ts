import { MemoryStateStore } from '../store/memory-state-store';
import { BackgroundLoop, HISTORY_LIMIT } from './background-loop.service';
import { JobDefinition, PassInProgressError, RunSummary } from './job.types';

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

function job(
  over: Partial<JobDefinition> & { calls?: { n: number } } = {},
): JobDefinition & { calls: { n: number } } {
  const calls = over.calls ?? { n: 0 };
  return {
    name: 'test-job',
    kind: 'frequent',
    enabled: true,
    intervalMs: 1_000,
    run: async () => {
      calls.n++;
      return { counts: { handled: 1 } };
    },
    ...over,
    calls,
  };
}

async function tickAndSettle(loop: BackgroundLoop, at: number, name = 'test-job'): Promise<void> {
  await loop.tick(at);
  await loop.idle(name);
}

describe('BackgroundLoop', () => {
  let store: MemoryStateStore;
  beforeEach(() => (store = new MemoryStateStore()));

  it('runs a frequent job once per interval, on the replica holding its lease only', async () => {
    const a = new BackgroundLoop(store);
    const b = new BackgroundLoop(store);
    const ja = job();
    const jb = job();
    a.register(ja);
    b.register(jb);
    const t = Date.now();
    await tickAndSettle(a, t);
    await tickAndSettle(b, t);
    await tickAndSettle(a, t + 500); // not due yet
    await tickAndSettle(a, t + 1_000);
    await tickAndSettle(b, t + 1_000);
    expect(ja.calls.n).toBe(2);
    expect(jb.calls.n).toBe(0);

    // The holder shuts down and releases the lease: the other replica takes over on its next attempt.
    await a.onApplicationShutdown();
    await tickAndSettle(b, t + 5_000);
    expect(jb.calls.n).toBe(1);
  });

  it('replaces a holder that stopped renewing once its lease expires', async () => {
    const a = new BackgroundLoop(store);
    const b = new BackgroundLoop(store);
    const jb = job();
    a.register(job());
    b.register(jb);
    await tickAndSettle(a, Date.now());
    await tickAndSettle(b, Date.now() + 4_000);
    expect(jb.calls.n).toBe(0);
    // A SIGKILLed holder never releases: its lease simply expires (here: removed as expiry would).
    (store as unknown as { leases: Map<string, unknown> }).leases.clear();
    await tickAndSettle(b, Date.now() + 10_000);
    expect(jb.calls.n).toBe(1);
  });

  it('never overlaps two passes of one job on a replica', async () => {
    const loop = new BackgroundLoop(store);
    const g = gate();
    const j = job({
      run: async () => {
        j.calls.n++;
        await g.wait;
        return { counts: {} };
      },
    });
    loop.register(j);
    const t = Date.now();
    await loop.tick(t);
    await loop.tick(t + 5_000);
    await loop.tick(t + 10_000);
    expect(j.calls.n).toBe(1);
    await expect(loop.runNow('test-job')).rejects.toBeInstanceOf(PassInProgressError);
    g.open();
    await loop.idle('test-job');
    await tickAndSettle(loop, t + 15_000);
    expect(j.calls.n).toBe(2);
  });

  it('keeps a periodic interval across restarts: the last run is read from the store', async () => {
    const first = new BackgroundLoop(store);
    const j1 = job({ kind: 'periodic', intervalMs: 60_000 });
    first.register(j1);
    const t = Date.now();
    await tickAndSettle(first, t);
    expect(j1.calls.n).toBe(1);
    await first.onApplicationShutdown();

    // A new process (no runOnStart) is not due until the interval has passed since that run.
    const second = new BackgroundLoop(store);
    const j2 = job({ kind: 'periodic', intervalMs: 60_000 });
    second.register(j2);
    await tickAndSettle(second, t + 1_000);
    expect(j2.calls.n).toBe(0);
    await tickAndSettle(second, t + 61_000);
    expect(j2.calls.n).toBe(1);
  });

  it('runs a runOnStart job once at startup even when the interval has not passed, then keeps the interval', async () => {
    const first = new BackgroundLoop(store);
    first.register(job({ kind: 'periodic', intervalMs: 60_000 }));
    await tickAndSettle(first, Date.now());
    await first.onApplicationShutdown();
    await new Promise((r) => setTimeout(r, 5));

    const second = new BackgroundLoop(store);
    const j = job({ kind: 'periodic', intervalMs: 60_000, runOnStart: true });
    const triggers: string[] = [];
    second.onRun((s) => triggers.push(s.trigger));
    second.register(j);
    const t = Date.now();
    await tickAndSettle(second, t);
    await tickAndSettle(second, t + 1_000);
    expect(j.calls.n).toBe(1);
    expect(triggers).toEqual(['startup']);
  });

  it('refuses a manual periodic pass while another replica runs one, naming its run id', async () => {
    const a = new BackgroundLoop(store);
    const b = new BackgroundLoop(store);
    const g = gate();
    a.register(
      job({
        kind: 'periodic',
        run: async () => {
          await g.wait;
          return { counts: {} };
        },
      }),
    );
    b.register(job({ kind: 'periodic' }));
    const running = a.runNow('test-job');
    await new Promise((r) => setTimeout(r, 20));
    const status = await b.status('test-job');
    expect(status.running?.replica).toBe('other');
    const err = await b.runNow('test-job').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PassInProgressError);
    expect((err as PassInProgressError).runId).toBe(status.running?.runId);
    g.open();
    const summary = await running;
    await expect(b.runNow('test-job')).resolves.toMatchObject({ outcome: 'succeeded', trigger: 'manual' });
    expect(summary.id).toMatch(/^run_/);
  });

  it('records every periodic pass, failures with their error, in a bounded history', async () => {
    const loop = new BackgroundLoop(store);
    let n = 0;
    loop.register(
      job({
        kind: 'periodic',
        run: async () => {
          n++;
          if (n % 2 === 0) throw new Error(`boom ${n}`);
          return { counts: { n } };
        },
      }),
    );
    const passes = HISTORY_LIMIT + 6; // even: the last one fails
    for (let i = 0; i < passes; i++) await loop.runNow('test-job');
    const status = await loop.status('test-job');
    expect(status.history).toHaveLength(HISTORY_LIMIT);
    expect(status.history[0]).toMatchObject({ outcome: 'failed', error: `boom ${passes}` });
    expect(status.lastRun?.id).toBe(status.history[0].id);
    expect(status.lastSuccessAt).not.toBeNull();
    const summary: RunSummary = status.history[1];
    expect(summary).toMatchObject({ outcome: 'succeeded', counts: { n: passes - 1 } });
    expect(Date.parse(summary.finishedAt)).toBeGreaterThanOrEqual(Date.parse(summary.startedAt));
  });

  it('keeps only passes that did something or failed in a frequent job history', async () => {
    const loop = new BackgroundLoop(store);
    let handled = 0;
    loop.register(job({ run: async () => ({ counts: { handled: handled++ % 2 } }) }));
    for (let i = 0; i < 6; i++) await loop.runNow('test-job');
    expect((await loop.status('test-job')).history.map((h) => h.counts.handled)).toEqual([1, 1, 1]);
  });

  it('runs a startup-only job (infinite interval) once, and reports no next run', async () => {
    const loop = new BackgroundLoop(store);
    const j = job({ kind: 'periodic', runOnStart: true, intervalMs: Number.POSITIVE_INFINITY });
    loop.register(j);
    const t = Date.now();
    await tickAndSettle(loop, t);
    await tickAndSettle(loop, t + 365 * 24 * 3600_000);
    expect(j.calls.n).toBe(1);
    expect((await loop.status('test-job')).nextRunAt).toBeNull();
  });

  it('keeps the process alive when the store fails while a scheduled periodic pass is recorded', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const loop = new BackgroundLoop(store);
      const periodic = job({ kind: 'periodic', runOnStart: true, intervalMs: 60_000 });
      loop.register(periodic);
      jest.spyOn(store, 'setMany').mockRejectedValueOnce(new Error('store down'));
      await tickAndSettle(loop, Date.now());
      await new Promise((r) => setImmediate(r));
      expect(periodic.calls.n).toBe(1);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('never runs a disabled job, not even its startup pass', async () => {
    const loop = new BackgroundLoop(store);
    const j = job({ kind: 'periodic', runOnStart: true, enabled: false });
    loop.register(j);
    await tickAndSettle(loop, Date.now());
    expect(j.calls.n).toBe(0);
  });

  it('does not schedule a disabled job', async () => {
    const loop = new BackgroundLoop(store);
    const j = job({ enabled: false });
    loop.register(j);
    await tickAndSettle(loop, Date.now());
    expect(j.calls.n).toBe(0);
  });
});
