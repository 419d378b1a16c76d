/**
 * Scenarios where the service talks to Novita (the simulator): the merged listing and a sync pass next to
 * the plain page walk they cannot beat, Redis commands per pass, and one Novita call for many concurrent
 * readers of a stale record.
 */
import Redis from 'ioredis';
import { BenchContext } from '../lib/context';
import { API_KEY, SimulatorProcess, apiGet, startStack } from '../lib/processes';
import { ScenarioRow, median } from '../lib/report';

const PAGE_SIZE = 100;
/** NOVITA_MAX_CONCURRENT_REQUESTS' default: the most Novita calls the service has in flight. */
const SERVICE_CONCURRENCY = 10;

async function fetchPage(
  sim: SimulatorProcess,
  page: number,
): Promise<{ instances: unknown[]; total: number }> {
  const res = await fetch(`${sim.baseUrl}/gpu/instances?pageNum=${page}&pageSize=${PAGE_SIZE}`, {
    headers: { authorization: `Bearer ${sim.apiKey}` },
  });
  if (!res.ok) throw new Error(`simulator page ${page}: ${res.status}`);
  return (await res.json()) as { instances: unknown[]; total: number };
}

/** Every page, one after another, as the service's own walk does. */
async function walkSequential(sim: SimulatorProcess): Promise<number> {
  const t0 = performance.now();
  for (let page = 1; ; page++) {
    const { instances, total } = await fetchPage(sim, page);
    if (instances.length < PAGE_SIZE || page * PAGE_SIZE >= total) break;
  }
  return performance.now() - t0;
}

/** The first page for the total, then the rest with the service's Novita concurrency. */
async function walkConcurrent(sim: SimulatorProcess): Promise<number> {
  const t0 = performance.now();
  const { total } = await fetchPage(sim, 1);
  const pages = Math.ceil(total / PAGE_SIZE);
  let next = 2;
  await Promise.all(
    Array.from({ length: SERVICE_CONCURRENCY }, async () => {
      while (next <= pages) await fetchPage(sim, next++);
    }),
  );
  return performance.now() - t0;
}

/** Calls Redis has executed since it started, from INFO commandstats (the INFO calls themselves excluded). */
async function redisCommands(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') calls += Number(m[2]);
  return calls;
}

/** Sync passes made before measuring: see listingAndSync. */
const WARM_UP_PASSES = 6;

/** 4. GET /api/instances/comprehensive and POST /api/instances/sync next to the fastest plain page walk. */
export async function listingAndSync(ctx: BenchContext): Promise<ScenarioRow[]> {
  const stack = await ctx.main();
  const redis = new Redis(stack.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const headers = { 'x-api-key': API_KEY };
  const rounds = ctx.quick ? 2 : 7;
  const seq: number[] = [];
  const conc: number[] = [];
  const comprehensive: number[] = [];
  const sync: number[] = [];
  const commands: number[] = [];
  const warmUp: number[] = [];
  try {
    // One unmeasured pass of each warms the simulator, the service and the connection pools. Unmeasured
    // sync passes make the measured ones steady: the first after the startup adoption marks every
    // record (10,000 writes), the second reads those marks back for the first time, and the passes
    // after boot run slower while V8 still compiles the pass's code (their times go into the report).
    await walkSequential(stack.sim);
    await (
      await fetch(`${stack.service.url}/api/instances/comprehensive?syncLocalState=false`, { headers })
    ).arrayBuffer();
    for (let i = 0; i < WARM_UP_PASSES; i++) {
      const t0 = performance.now();
      const warm = await fetch(`${stack.service.url}/api/instances/sync`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{}',
      });
      await warm.arrayBuffer();
      if (!warm.ok) throw new Error(`warm-up sync pass failed: ${warm.status}`);
      warmUp.push(performance.now() - t0);
    }
    ctx.log(`unmeasured sync passes: ${warmUp.map((t) => t.toFixed(0)).join(', ')} ms`);
    for (let r = 0; r < rounds; r++) {
      seq.push(await walkSequential(stack.sim));
      conc.push(await walkConcurrent(stack.sim));

      let t0 = performance.now();
      const res = await fetch(`${stack.service.url}/api/instances/comprehensive?syncLocalState=false`, {
        headers,
      });
      const body = (await res.json()) as { total?: number; novitaAvailable?: boolean };
      comprehensive.push(performance.now() - t0);
      if (!res.ok || !body.novitaAvailable) throw new Error(`comprehensive listing failed: ${res.status}`);

      const before = await redisCommands(redis);
      t0 = performance.now();
      const syncRes = await fetch(`${stack.service.url}/api/instances/sync`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{}',
      });
      // The answer comes when the pass has finished (docs/sync.md).
      const syncBody = (await syncRes.json()) as { data?: { pages?: number; errors?: unknown[] } };
      sync.push(performance.now() - t0);
      commands.push((await redisCommands(redis)) - before);
      if (!syncRes.ok)
        throw new Error(`sync pass failed: ${syncRes.status} ${JSON.stringify(syncBody).slice(0, 300)}`);
      ctx.log(
        `round ${r + 1}: walk ${seq[r].toFixed(0)} / ${conc[r].toFixed(0)} ms, comprehensive ${comprehensive[r].toFixed(0)} ms, sync ${sync[r].toFixed(0)} ms, ${commands[r]} Redis commands`,
      );
    }
  } finally {
    redis.disconnect();
  }
  const n = stack.instances.toLocaleString('en-US');
  const pages = Math.ceil(stack.instances / PAGE_SIZE);
  const walkSeq = median(seq);
  const walkConc = median(conc);
  const walk = Math.min(walkSeq, walkConc);
  const fastest = walkSeq <= walkConc ? 'sequential' : `${SERVICE_CONCURRENCY} concurrent`;
  const comp = median(comprehensive);
  const pass = median(sync);
  const cmds = median(commands);
  const scenario = `${n} Novita instances (${pages} pages of ${PAGE_SIZE})`;
  return [
    {
      scenario,
      metric: 'plain page walk, sequential (median)',
      value: walkSeq,
      unit: 'ms',
      note: `${rounds} rounds`,
    },
    {
      scenario,
      metric: `plain page walk, ${SERVICE_CONCURRENCY} concurrent (median)`,
      value: walkConc,
      unit: 'ms',
    },
    {
      scenario,
      metric: 'GET /api/instances/comprehensive?syncLocalState=false (median)',
      value: comp,
      unit: 'ms',
    },
    {
      scenario,
      metric: 'comprehensive / fastest walk',
      value: comp / walk,
      unit: 'x',
      target: '≤ 1.1x',
      ok: comp / walk <= 1.1,
      note: `fastest walk: ${fastest}`,
    },
    {
      scenario,
      metric: 'POST /api/instances/sync, steady pass (median)',
      value: pass,
      unit: 'ms',
      note: `every instance already recorded and marked; ${WARM_UP_PASSES} unmeasured passes first (${warmUp.map((t) => t.toFixed(0)).join(', ')} ms); the request answers when the pass has finished`,
    },
    {
      scenario,
      metric: 'sync pass / fastest walk',
      value: pass / walk,
      unit: 'x',
      target: '≤ 1.25x',
      ok: pass / walk <= 1.25,
      note: `fastest walk: ${fastest}`,
    },
    {
      scenario,
      metric: 'Redis commands per sync pass (median)',
      value: cmds,
      unit: 'commands',
      note: `${(cmds / pages).toFixed(1)} per page; INFO commandstats delta, includes the service's background jobs during the pass`,
    },
  ];
}

interface CallLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
}

/** 5. Ten clients read one record whose cached state has gone stale: how often is Novita asked? */
export async function staleRead(ctx: BenchContext): Promise<ScenarioRow[]> {
  const staleMs = 300;
  const clients = 10;
  const rounds = ctx.quick ? 2 : 5;
  const stack = await startStack(5, { INSTANCE_CACHE_STALE_MS: String(staleMs) });
  try {
    const page = (await apiGet(stack.service.url, '/api/instances?limit=1')) as {
      instances: { id: string; novitaInstanceId: string }[];
    };
    const { id, novitaInstanceId } = page.instances[0];
    const counts: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await new Promise((resolve) => setTimeout(resolve, staleMs * 2));
      await fetch(`${stack.sim.url}/__sim/calls`, { method: 'DELETE' });
      const answers = await Promise.all(
        Array.from({ length: clients }, () =>
          fetch(`${stack.service.url}/api/instances/${id}`, { headers: { 'x-api-key': API_KEY } }).then(
            async (res) => (await res.arrayBuffer(), res.status),
          ),
        ),
      );
      if (answers.some((s) => s !== 200)) throw new Error(`stale reads answered ${answers.join(', ')}`);
      const log = (await (
        await fetch(`${stack.sim.url}/__sim/calls?method=GET&path=/gpu/instance`)
      ).json()) as {
        calls: CallLogEntry[];
      };
      counts.push(
        log.calls.filter((c) => c.path === '/gpu/instance' && c.query.instanceId === novitaInstanceId).length,
      );
    }
    const worst = Math.max(...counts);
    return [
      {
        scenario: `${clients} concurrent GET /api/instances/:id of one stale record`,
        metric: 'Novita getInstance calls for that instance (worst round)',
        value: worst,
        unit: 'calls',
        target: '1',
        ok: worst === 1,
        note: `INSTANCE_CACHE_STALE_MS=${staleMs}, read ${staleMs * 2} ms after the last refresh; per round: ${counts.join(', ')}`,
      },
    ];
  } finally {
    await stack.stop();
  }
}
