/**
 * `npm run bench`: the whole benchmark in one command. Starts its own redis-server, simulator, the built
 * service and a bare Fastify reference (each in its own process, load generators too), runs every scenario
 * and writes the generated section of docs/PERFORMANCE.md.
 *
 * Usage: ts-node --transpile-only bench/run.ts [--quick] [--out <file>] [--only <scenario,...>]
 * Needs `npx nest build` first (npm run bench does it). Exits non-zero when a scenario failed to run.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { BenchContext, createContext } from './lib/context';
import { ROOT } from './lib/processes';
import { ScenarioRow, renderSection, writeSection } from './lib/report';
import { latencyAtFixedRate, listBySize, throughputVsBare } from './scenarios/service-http';
import { listingAndSync, staleRead } from './scenarios/service-novita';
import { bootToReady, memory } from './scenarios/service-process';

interface Scenario {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<ScenarioRow[]>;
}

/** Scenario modules with their own setup, each exporting run({quick}); a missing one is reported as not run. */
function moduleScenario(name: string, title: string): Scenario {
  return {
    name,
    title,
    async run(ctx) {
      const file = join(__dirname, 'scenarios', `${name}.ts`);
      if (!existsSync(file)) {
        return [
          {
            scenario: name,
            metric: 'not run',
            value: NaN,
            unit: '',
            note: `bench/scenarios/${name}.ts is missing`,
          },
        ];
      }
      const mod = (await import(file)) as { run?: (opts: { quick: boolean }) => Promise<ScenarioRow[]> };
      if (typeof mod.run !== 'function') throw new Error(`bench/scenarios/${name}.ts exports no run()`);
      return mod.run({ quick: ctx.quick });
    },
  };
}

// In run order: the memory figure is taken after the load scenarios that precede it.
const SCENARIOS: Scenario[] = [
  { name: 'throughput', title: '1. Request rate: service vs bare Fastify', run: throughputVsBare },
  { name: 'latency', title: '2. Latency at a fixed request rate', run: latencyAtFixedRate },
  { name: 'list', title: '3. List page as the store grows', run: listBySize },
  {
    name: 'sync',
    title: '4. Comprehensive listing and sync pass vs the plain page walk',
    run: listingAndSync,
  },
  { name: 'memory', title: '5. Memory', run: memory },
  { name: 'stale', title: '6. Concurrent readers of one stale record', run: staleRead },
  { name: 'boot', title: '7. Boot to ready', run: bootToReady },
  moduleScenario('idle-to-stop', '8a. Idle deadline to stop call'),
  moduleScenario('reclaim-to-migrate', '8b. Spot reclaim to migrate call'),
  moduleScenario('auto-stop-pass', '8c. Auto-stop pass, none due'),
];

function parseArgs(argv: string[]): { quick: boolean; out: string; only?: string[] } {
  let quick = false;
  let out = join(ROOT, 'docs', 'PERFORMANCE.md');
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--out') out = resolve(argv[++i] ?? '');
    else if (arg === '--only')
      only = (argv[++i] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else
      throw new Error(
        `unknown argument ${arg}; usage: bench/run.ts [--quick] [--out <file>] [--only <scenario,...>]`,
      );
  }
  const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
  if (unknown.length) {
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  }
  return { quick, out, only };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const ctx = createContext(args.quick);
  const selected = SCENARIOS.filter((s) => !args.only || args.only.includes(s.name));
  const sections: { name: string; title: string; rows: ScenarioRow[] }[] = [];
  let failed = 0;
  try {
    for (const scenario of selected) {
      ctx.log(`scenario ${scenario.name}`);
      let rows: ScenarioRow[];
      try {
        rows = await scenario.run(ctx);
      } catch (err) {
        failed++;
        const message = err instanceof Error ? err.message : String(err);
        console.error(`scenario ${scenario.name} failed: ${message}`);
        rows = [
          { scenario: scenario.name, metric: 'failed', value: NaN, unit: '', note: message.split('\n')[0] },
        ];
      }
      sections.push({ name: scenario.name, title: scenario.title, rows });
    }
  } finally {
    await ctx.close();
  }
  const command = [
    'npm run bench',
    ...(process.argv.length > 2 ? ['--', ...redactOut(process.argv.slice(2))] : []),
  ];
  const section = renderSection({
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    command: command.join(' '),
    quick: args.quick,
    loadAtStart,
    sections,
  });
  writeSection(args.out, section);
  console.log(section);
  ctx.log(`report written (${failed} scenario(s) failed)`);
  return failed ? 1 : 0;
}

/** The report names the command, never a path on the machine that ran it. */
function redactOut(argv: string[]): string[] {
  return argv.map((a, i) => (argv[i - 1] === '--out' ? '<file>' : a));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
