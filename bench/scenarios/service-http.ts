/**
 * HTTP scenarios against the built service: request rate next to a bare Fastify server answering the same
 * bodies, latency at a fixed request rate, and the list route as the number of records grows.
 */
import { BenchContext } from '../lib/context';
import { fixedRate, throughput } from '../lib/load';
import { API_KEY, Stack, apiGet, startReference, startStack } from '../lib/processes';
import { ScenarioRow, median } from '../lib/report';

const CONNECTIONS = 10;
const FIXED_RATE = 1_000;

async function fetchJson(url: string): Promise<unknown> {
  const res = await fetch(url, { headers: { 'x-api-key': API_KEY } });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

/** One instance the service serves from its store (fresh: the stack runs with a long cache period). */
async function anyInstanceId(stack: Stack): Promise<string> {
  const page = (await apiGet(stack.service.url, '/api/instances?limit=1')) as { instances: { id: string }[] };
  const id = page.instances[0]?.id;
  if (!id) throw new Error('the service lists no instance');
  return id;
}

/** The reference gets exactly the bodies the service answers with (and, if asked, the same headers). */
async function startBareFor(stack: Stack, id: string, headers: Record<string, string> = {}) {
  return startReference(
    {
      live: await fetchJson(`${stack.service.url}/health/live`),
      instances: { [id]: await fetchJson(`${stack.service.url}/api/instances/${id}`) },
    },
    headers,
  );
}

/** Headers Fastify writes itself (framing, date, type) are left out: every server sends those. */
const FRAMING_HEADERS = new Set(['content-length', 'content-type', 'date', 'connection', 'keep-alive']);

/** The headers the service adds to an answer of this path (security headers, request id, rate limit). */
async function serviceHeaders(stack: Stack, path: string): Promise<Record<string, string>> {
  const res = await fetch(stack.service.url + path, { headers: { 'x-api-key': API_KEY } });
  await res.arrayBuffer();
  const out: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!FRAMING_HEADERS.has(name)) out[name] = value;
  });
  return out;
}

const ratioRow = (
  scenario: string,
  metric: string,
  value: number,
  min: number,
  note?: string,
): ScenarioRow => ({
  scenario,
  metric,
  value,
  unit: 'x',
  target: `≥ ${min}x`,
  ok: value >= min,
  note,
});

/** 1. Closed-loop request rate of the service and the bare server, alternating, on two routes. */
export async function throughputVsBare(ctx: BenchContext): Promise<ScenarioRow[]> {
  const stack = await ctx.main();
  // Five rounds: on a shared two-core machine single rounds of either side move by a third.
  const rounds = ctx.quick ? 1 : 5;
  const id = await anyInstanceId(stack);
  const bare = await startBareFor(stack, id);
  // A second reference sending the service's own headers (about 850 bytes of them): how much of the
  // gap is the client reading longer answers rather than work in the service. Not judged.
  const bareHeaders = await startBareFor(stack, id, await serviceHeaders(stack, `/api/instances/${id}`));
  const rows: ScenarioRow[] = [];
  try {
    const routes = [
      { name: 'GET /api/instances/:id (cached)', path: `/api/instances/${id}`, min: 0.5 },
      { name: 'GET /health/live', path: '/health/live', min: 0.7 },
    ];
    for (const route of routes) {
      const service: number[] = [];
      const reference: number[] = [];
      const referenceWithHeaders: number[] = [];
      const ratios: number[] = [];
      const p99s: number[] = [];
      let failures = 0;
      const sides = { service: stack.service.url, bare: bare.url, 'bare with headers': bareHeaders.url };
      // Warm every side (JIT, connection pools) before measuring.
      for (const base of Object.values(sides))
        await throughput(base + route.path, { connections: CONNECTIONS, seconds: 1 });
      const names = Object.keys(sides) as (keyof typeof sides)[];
      for (let r = 0; r < rounds; r++) {
        // Rotate which goes first, so a drift in the machine's load does not favour one side.
        const order = names.map((_, i) => names[(i + r) % names.length]);
        for (const who of order) {
          const res = await throughput(sides[who] + route.path, {
            connections: CONNECTIONS,
            seconds: ctx.seconds,
          });
          failures += res.failures;
          if (who === 'service') {
            service.push(res.rps);
            p99s.push(res.p99);
          } else if (who === 'bare') reference.push(res.rps);
          else referenceWithHeaders.push(res.rps);
          ctx.log(`${route.name} ${who} round ${r + 1}: ${res.rps.toFixed(0)} req/s, p99 ${res.p99} ms`);
        }
        ratios.push(service[r] / reference[r]);
      }
      ctx.loadRan = true;
      const s = median(service);
      const b = median(reference);
      const ratio = median(ratios);
      const failNote = failures ? `; ${failures} failed or non-2xx answers` : '';
      rows.push(
        {
          scenario: route.name,
          metric: 'service req/s (median)',
          value: s,
          unit: 'req/s',
          note: `-c ${CONNECTIONS}, ${rounds} x ${ctx.seconds} s; p99 ${median(p99s)} ms${failNote}`,
        },
        { scenario: route.name, metric: 'bare Fastify req/s (median)', value: b, unit: 'req/s' },
        ratioRow(
          route.name,
          'service / bare (median of the rounds’ ratios)',
          ratio,
          route.min,
          `per round: ${ratios.map((x) => x.toFixed(2)).join(', ')}; the two sides run back to back in each round, so a change in the machine's speed between rounds moves both`,
        ),
        {
          scenario: route.name,
          metric: 'service / bare sending the same headers (not judged)',
          value: s / median(referenceWithHeaders),
          unit: 'x',
          note: `bare with the service's headers: ${median(referenceWithHeaders).toFixed(0)} req/s`,
        },
      );
    }
    return rows;
  } finally {
    await Promise.all([bare.stop(), bareHeaders.stop()]);
  }
}

/** 2. Open-loop latency at a fixed 1,000 req/s on the cached read, the bare server alongside. */
export async function latencyAtFixedRate(ctx: BenchContext): Promise<ScenarioRow[]> {
  const stack = await ctx.main();
  const id = await anyInstanceId(stack);
  const bare = await startBareFor(stack, id);
  const path = `/api/instances/${id}`;
  const seconds = ctx.quick ? 3 : 10;
  try {
    const service: { p50: number; p99: number; rate: number; failed: number }[] = [];
    const reference: number[] = [];
    for (let r = 0; r < ctx.rounds; r++) {
      const order = r % 2 === 0 ? ['service', 'bare'] : ['bare', 'service'];
      for (const who of order) {
        const res = await fixedRate(
          (who === 'service' ? stack.service.url : bare.url) + path,
          FIXED_RATE,
          seconds,
        );
        if (who === 'service')
          service.push({
            p50: res.p50,
            p99: res.p99,
            rate: res.achievedRate,
            failed: res.errors + res.non2xx,
          });
        else reference.push(res.p99);
        ctx.log(
          `fixed ${FIXED_RATE} req/s ${who} round ${r + 1}: p50 ${res.p50.toFixed(2)} ms, p99 ${res.p99.toFixed(2)} ms`,
        );
      }
    }
    ctx.loadRan = true;
    const p99 = median(service.map((s) => s.p99));
    const failed = service.reduce((n, s) => n + s.failed, 0);
    const scenario = `GET /api/instances/:id at ${FIXED_RATE.toLocaleString('en-US')} req/s`;
    return [
      {
        scenario,
        metric: 'service p99 latency (median of rounds)',
        value: p99,
        unit: 'ms',
        target: '< 10 ms',
        ok: p99 < 10 && failed === 0,
        note: `open loop, ${ctx.rounds} x ${seconds} s; achieved ${median(service.map((s) => s.rate)).toFixed(0)} req/s${failed ? `; ${failed} failed` : ''}`,
      },
      { scenario, metric: 'service p50 latency', value: median(service.map((s) => s.p50)), unit: 'ms' },
      { scenario, metric: 'bare Fastify p99 latency', value: median(reference), unit: 'ms' },
    ];
  } finally {
    await bare.stop();
  }
}

/**
 * 3. One list page as the store grows: one account per size, measured in alternating rounds. Every
 * size asks for the same page of 20 (what the smallest account holds), so the responses are the same
 * size and only the number of stored records differs: what the list's cost must not depend on.
 */
const LIST_PATH = '/api/instances?limit=20';

export async function listBySize(ctx: BenchContext): Promise<ScenarioRow[]> {
  const main = await ctx.main();
  const sizes = ctx.quick ? [20, 200] : [20, 1_000];
  const small = await Promise.all(sizes.map((n) => startStack(n)));
  try {
    const stacks = [...small, main];
    const rps = stacks.map(() => [] as number[]);
    const failures = stacks.map(() => 0);
    for (const s of stacks) {
      await throughput(`${s.service.url}${LIST_PATH}`, { connections: CONNECTIONS, seconds: 1 });
    }
    for (let r = 0; r < ctx.rounds; r++) {
      for (const [i, s] of stacks.entries()) {
        const res = await throughput(`${s.service.url}${LIST_PATH}`, {
          connections: CONNECTIONS,
          seconds: ctx.seconds,
        });
        rps[i].push(res.rps);
        failures[i] += res.failures;
        ctx.log(`list at ${s.instances} records round ${r + 1}: ${res.rps.toFixed(0)} req/s`);
      }
    }
    ctx.loadRan = true;
    const scenario = `GET ${LIST_PATH} (a page of 20)`;
    const rows: ScenarioRow[] = stacks.map((s, i) => ({
      scenario,
      metric: `req/s at ${s.instances.toLocaleString('en-US')} records (median)`,
      value: median(rps[i]),
      unit: 'req/s',
      note: `-c ${CONNECTIONS}, ${ctx.rounds} x ${ctx.seconds} s${failures[i] ? `; ${failures[i]} failed or non-2xx` : ''}`,
    }));
    const largest = median(rps[rps.length - 1]);
    rows.push(
      ratioRow(
        scenario,
        `${main.instances.toLocaleString('en-US')} records / 20 records`,
        largest / median(rps[0]),
        0.8,
        'records adopted by the service’s own startup sync',
      ),
    );
    return rows;
  } finally {
    await Promise.all(small.map((s) => s.stop()));
  }
}
