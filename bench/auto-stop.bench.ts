/**
 * Auto-stop sweeper benchmark against a throwaway redis-server and the Novita simulator (loopback).
 *  1. TRACKED instances tracked, none due: store round trips per pass (counted by wrapping the store)
 *     and pass time.
 *  2. DUE instances due at once: every stop call issued, the most Novita calls in flight at any moment
 *     (bounded by NOVITA_MAX_CONCURRENT_REQUESTS), and the time from the pass start to the last stop call.
 * Usage: npx ts-node --transpile-only bench/auto-stop.bench.ts [tracked=10000] [due=1000] [passes=20]
 */
import { NovitaClient } from '../src/infra/novita/novita-client';
import { AUTOSTOP_DEADLINES_KEY, instanceKey } from '../src/modules/records/instance.repository';
import { InstanceRecord } from '../src/modules/records/instance.types';
import { measurePasses, startSweeperRig, trackNotDue } from './scenarios/auto-stop-pass';
import { median } from './scenarios/scenario-row';

const TRACKED = Number(process.argv[2] ?? 10_000);
const DUE = Number(process.argv[3] ?? 1_000);
const PASSES = Number(process.argv[4] ?? 20);

/** Tracks how many Novita calls are in flight at once. */
function inFlight(inner: NovitaClient): { client: NovitaClient; max: () => number; stops: number[] } {
  let current = 0;
  let max = 0;
  const stops: number[] = [];
  const client = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        current++;
        max = Math.max(max, current);
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          current--;
          if (prop === 'stopInstance') stops.push(Date.now());
        }
      };
    },
  });
  return { client, max: () => max, stops };
}

async function main(): Promise<void> {
  let novita: ReturnType<typeof inFlight> | undefined;
  const rig = await startSweeperRig((client) => (novita = inFlight(client)).client);
  const { sim, raw, sweeper, config } = rig;

  // 1. Tracked, none due.
  await trackNotDue(rig, TRACKED);
  const { trips, times } = await measurePasses(rig, PASSES);

  // 2. DUE instances due at once, running on the simulator.
  const seeded = sim.sim.seedInstances(DUE, { status: 'running' });
  const at = new Date().toISOString();
  const records: InstanceRecord[] = seeded.map((w, i) => ({
    id: `inst_due_${i}`,
    name: `due-${i}`,
    novitaInstanceId: w.id,
    status: 'ready',
    novitaStatus: 'running',
    readiness: 'passed',
    spec: {} as InstanceRecord['spec'],
    region: 'AS-SGP-02',
    clusterId: null,
    productId: null,
    productName: 'RTX 4090 24GB',
    billingMode: 'spot',
    price: 0.17,
    gpuNum: 1,
    portMappings: [],
    webhookUrl: null,
    healthCheck: null,
    activeOperationId: null,
    lastError: null,
    statusError: null,
    spotStatus: null,
    managed: true,
    createdAt: at,
    updatedAt: at,
    lastSyncedAt: null,
    startedAt: at,
    readyAt: at,
    stoppedAt: null,
    lastUsedAt: null,
    deletedAt: null,
  }));
  await raw.setMany(records.map((r) => ({ key: instanceKey(r.id), value: r })));
  await raw.sortedSetAdd(
    AUTOSTOP_DEADLINES_KEY,
    records.map((r) => ({ member: r.id, score: Date.now() - 1_000 })),
  );
  const t0 = Date.now();
  const report = await sweeper.sweep(Date.now(), { dryRun: false });
  const lastStop = Math.max(...novita!.stops);
  const stopCalls = sim.sim.callLog({ path: '/gpu/instance/stop' }).length;

  await rig.close();

  console.log(
    `Auto-stop sweeper, Redis store, simulator as Novita (NOVITA_MAX_CONCURRENT_REQUESTS=${config.novita.maxConcurrent})\n`,
  );
  console.log('| scenario | result |');
  console.log('|---|---|');
  console.log(
    `| ${TRACKED} tracked, none due: store round trips per pass (${PASSES} passes) | ${Math.min(...trips)}-${Math.max(...trips)} |`,
  );
  console.log(`| ${TRACKED} tracked, none due: pass time, median (ms) | ${median(times).toFixed(2)} |`);
  console.log(
    `| ${DUE} due at once: stopped by one pass / stop calls received by Novita | ${report.acted.length} / ${stopCalls} |`,
  );
  console.log(`| ${DUE} due at once: errors | ${report.errors.length} |`);
  console.log(
    `| ${DUE} due at once: most Novita calls in flight | ${novita!.max()} (limit ${config.novita.maxConcurrent}) |`,
  );
  console.log(`| ${DUE} due at once: pass start to last stop call (ms) | ${lastStop - t0} |`);
  console.log(`| ${DUE} due at once: per instance (ms) | ${((lastStop - t0) / DUE).toFixed(1)} |`);
}

void main();
