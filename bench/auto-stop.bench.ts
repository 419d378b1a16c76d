/**
 * Auto-stop sweeper benchmark against a throwaway redis-server and the Novita simulator (loopback).
 *  1. TRACKED instances tracked, none due: store round trips per pass (counted by wrapping the store)
 *     and pass time.
 *  2. DUE instances due at once: every stop call issued, the most Novita calls in flight at any moment
 *     (bounded by NOVITA_MAX_CONCURRENT_REQUESTS), and the time from the pass start to the last stop call.
 * Usage: npx ts-node --transpile-only bench/auto-stop.bench.ts [tracked=10000] [due=1000] [passes=20]
 */
import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import axios from 'axios';
import { startSimulator } from '../simulator';
import { loadConfig } from '../src/config/config.loader';
import { AllConfig } from '../src/config/config.types';
import { HttpNovitaClient } from '../src/infra/novita/http-novita-client';
import { NovitaClient } from '../src/infra/novita/novita-client';
import { RedisStateStore } from '../src/infra/store/redis-state-store';
import { StateStore } from '../src/infra/store/state-store';
import { AutoStopDeleteAfterStop } from '../src/modules/auto-stop/auto-stop.delete-after-stop';
import { AutoStopIdleAction } from '../src/modules/auto-stop/auto-stop.idle-action';
import { AutoStopSweepSteps } from '../src/modules/auto-stop/auto-stop.sweep-steps';
import { AutoStopSweeper } from '../src/modules/auto-stop/auto-stop.sweeper';
import { AutoStopWarnings } from '../src/modules/auto-stop/auto-stop.warnings';
import { CreateLookup } from '../src/modules/instances/create-lookup';
import { InstanceLifecycleService } from '../src/modules/instances/instance-lifecycle.service';
import { IdleDeadlines } from '../src/modules/records/idle-deadlines';
import { InstanceEvents } from '../src/modules/records/instance-events';
import { InstanceRepository, instanceKey } from '../src/modules/records/instance.repository';
import { InstanceRecord } from '../src/modules/records/instance.types';
import { OperationRepository } from '../src/modules/records/operation.repository';
import { EmitWebhookInput, EmitWebhookResult, WebhookEmitter } from '../src/modules/webhooks/webhook-emitter';
import { startRedisServer } from '../test/support/redis-server';

const TRACKED = Number(process.argv[2] ?? 10_000);
const DUE = Number(process.argv[3] ?? 1_000);
const PASSES = Number(process.argv[4] ?? 20);

/** Counts store method calls: each is one round trip for the Redis adapter (batches are one command). */
function counting(inner: StateStore): { store: StateStore; calls: string[] } {
  const calls: string[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

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

class NullEmitter extends WebhookEmitter {
  async emit(input: EmitWebhookInput): Promise<EmitWebhookResult> {
    return { eventId: input.dedupeKey, deliveryId: null, duplicate: false };
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const redis = await startRedisServer();
  const sim = await startSimulator({ seed: 5 });
  const config: AllConfig = loadConfig(
    {
      NOVITA_API_KEY: sim.apiKey,
      NOVITA_API_BASE_URL: sim.baseUrl,
      REDIS_URL: redis.url,
      AUTO_STOP_WARNING_MINUTES: '0',
    },
    { demoMode: false },
  );
  const configService = new ConfigService<AllConfig, true>(config as unknown as Record<string, unknown>);
  const raw = new RedisStateStore({
    redisUrl: redis.url,
    keyPrefix: 'bench',
    connectTimeoutMs: 2000,
    commandTimeoutMs: 10_000,
  });
  const { store, calls } = counting(raw);
  const novita = inFlight(new HttpNovitaClient(new HttpService(axios.create()), config.novita));
  const repo = new InstanceRepository(raw);
  const operations = new OperationRepository(raw);
  const events = new InstanceEvents(new NullEmitter());
  const idle = new IdleDeadlines(repo, raw, configService);
  const lifecycle = new InstanceLifecycleService(
    repo,
    operations,
    novita.client,
    events,
    new CreateLookup(novita.client, repo),
    configService,
  );
  // Every part of the sweeper goes through the counting store, so each of its round trips is counted.
  const steps = new AutoStopSweepSteps(store, operations, idle, novita.client, events);
  const sweeper = new AutoStopSweeper(
    store,
    steps,
    new AutoStopWarnings(idle, events, steps, configService),
    new AutoStopIdleAction(store, idle, lifecycle, steps),
    new AutoStopDeleteAfterStop(store, idle, lifecycle, steps),
    configService,
  );

  // 1. Tracked, none due.
  const now = Date.now();
  for (let i = 0; i < TRACKED; i += 1000)
    await raw.sortedSetAdd(
      'autostop:deadlines',
      Array.from({ length: Math.min(1000, TRACKED - i) }, (_, j) => ({
        member: `inst_idle_${i + j}`,
        score: now + 3_600_000 + i + j,
      })),
    );
  const trips: number[] = [];
  const times: number[] = [];
  for (let p = 0; p < PASSES; p++) {
    calls.length = 0;
    const t0 = process.hrtime.bigint();
    await sweeper.sweep(Date.now(), { dryRun: false });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    trips.push(calls.length);
  }

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
    'autostop:deadlines',
    records.map((r) => ({ member: r.id, score: Date.now() - 1_000 })),
  );
  const t0 = Date.now();
  const report = await sweeper.sweep(Date.now(), { dryRun: false });
  const lastStop = Math.max(...novita.stops);
  const stopCalls = sim.sim.callLog({ path: '/gpu/instance/stop' }).length;

  await raw.close();
  await sim.close();
  await redis.stop();

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
    `| ${DUE} due at once: most Novita calls in flight | ${novita.max()} (limit ${config.novita.maxConcurrent}) |`,
  );
  console.log(`| ${DUE} due at once: pass start to last stop call (ms) | ${lastStop - t0} |`);
  console.log(`| ${DUE} due at once: per instance (ms) | ${((lastStop - t0) / DUE).toFixed(1)} |`);
}

void main();
