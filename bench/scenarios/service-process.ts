/** The service process itself: memory with the large account tracked, and time from spawn to ready. */
import { BenchContext } from '../lib/context';
import {
  rssMiB,
  serviceEnv,
  spawnService,
  startRedisServer,
  startSimulator,
  waitForOk,
} from '../lib/processes';
import { ScenarioRow, median } from '../lib/report';
import { freePort } from '../../test/support/service-process';

/** 6. Resident memory of the service with the large account tracked, after the load scenarios. */
export async function memory(ctx: BenchContext): Promise<ScenarioRow[]> {
  const stack = await ctx.main();
  // VmRSS is in KiB; the target is in MB (10^6 bytes).
  const rssMb = (): number => (rssMiB(stack.service.pid) * 2 ** 20) / 1e6;
  const scenario = `service process, ${stack.instances.toLocaleString('en-US')} tracked instances`;
  const after = ctx.loadRan
    ? 'after the load scenarios of this run'
    : 'no load scenario ran before it in this run';
  const peak = rssMb();
  // V8 keeps the heap it grew under load until the process has been idle a while (its memory
  // reducer then collects and gives pages back): the settled figure is what the instances cost.
  const settleMs = ctx.quick ? 5_000 : 30_000;
  await new Promise((r) => setTimeout(r, settleMs));
  const settled = rssMb();
  return [
    {
      scenario,
      metric: 'resident memory (VmRSS) right after the load',
      value: peak,
      unit: 'MB',
      note: after,
    },
    {
      scenario,
      metric: `resident memory (VmRSS) after ${settleMs / 1000} s without requests`,
      value: settled,
      unit: 'MB',
      target: '≤ 200 MB',
      ok: settled <= 200,
      note: 'background jobs keep running meanwhile (reclaim check every 10 s, auto-stop sweep every 5 s)',
    },
  ];
}

/** 7. Spawn to the first 200 from /health/ready, with the Redis store. */
export async function bootToReady(ctx: BenchContext): Promise<ScenarioRow[]> {
  const boots = ctx.quick ? 3 : 7;
  const [redis, sim] = await Promise.all([startRedisServer(), startSimulator()]);
  try {
    await sim.seed(5);
    const times: number[] = [];
    for (let i = 0; i <= boots; i++) {
      const port = await freePort();
      const t0 = performance.now();
      const svc = spawnService(serviceEnv(redis, sim), port);
      try {
        await waitForOk(`${svc.url}/health/ready`, svc, 30_000, 10);
        // The first boot warms the OS file cache and is not counted.
        if (i > 0) times.push(performance.now() - t0);
      } finally {
        await svc.stop();
      }
    }
    const ms = median(times);
    return [
      {
        scenario: 'boot: spawn `node dist/src/main.js` to /health/ready 200',
        metric: `median of ${boots} boots`,
        value: ms,
        unit: 'ms',
        target: '≤ 1,000 ms',
        ok: ms <= 1000,
        note: `Redis store, polled every 10 ms; all: ${times.map((t) => t.toFixed(0)).join(', ')} ms`,
      },
    ];
  } finally {
    await Promise.all([sim.stop(), redis.stop()]);
  }
}
