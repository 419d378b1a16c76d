/**
 * Scenario auto-stop-pass: the auto-stop sweeper's pass with 10,000 tracked instances (quick: 1,000), none
 * due, on a throwaway redis-server. Measures the store round trips per pass (the store is wrapped and every
 * adapter call counted; a batch is one command) and the pass time.
 * Alone: npx ts-node --transpile-only bench/scenarios/auto-stop-pass.ts [--quick]
 */
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { RunningSimulator, startSimulator } from '../../simulator';
import { loadConfig } from '../../src/config/config.loader';
import { AllConfig } from '../../src/config/config.types';
import { HttpNovitaClient } from '../../src/infra/novita/http-novita-client';
import { NovitaClient } from '../../src/infra/novita/novita-client';
import { RedisStateStore } from '../../src/infra/store/redis-state-store';
import { AutoStopDeleteAfterStop } from '../../src/modules/auto-stop/auto-stop.delete-after-stop';
import { AutoStopIdleAction } from '../../src/modules/auto-stop/auto-stop.idle-action';
import { AutoStopSweepSteps } from '../../src/modules/auto-stop/auto-stop.sweep-steps';
import { AutoStopSweeper } from '../../src/modules/auto-stop/auto-stop.sweeper';
import { AutoStopWarnings } from '../../src/modules/auto-stop/auto-stop.warnings';
import { CreateLookup } from '../../src/modules/instances/create-lookup';
import { InstanceLifecycleService } from '../../src/modules/instances/instance-lifecycle.service';
import { IdleDeadlines } from '../../src/modules/records/idle-deadlines';
import { InstanceEvents } from '../../src/modules/records/instance-events';
import { AUTOSTOP_DEADLINES_KEY, InstanceRepository } from '../../src/modules/records/instance.repository';
import { OperationRepository } from '../../src/modules/records/operation.repository';
import {
  EmitWebhookInput,
  EmitWebhookResult,
  WebhookEmitter,
} from '../../src/modules/webhooks/webhook-emitter';
import { CountingStore, countingStore } from '../../test/support/counting-store';
import { RedisServerHandle, startRedisServer } from '../../test/support/redis-server';
import { ScenarioRow, median, percentile, runAlone } from './scenario-row';

const SCENARIO = 'auto-stop-pass';

class NullEmitter extends WebhookEmitter {
  async emit(input: EmitWebhookInput): Promise<EmitWebhookResult> {
    return { eventId: input.dedupeKey, deliveryId: null, duplicate: false };
  }
}

/** The sweeper wired by hand to a real redis-server and the simulator (as Novita, over HTTP). */
export interface SweeperRig {
  redis: RedisServerHandle;
  sim: RunningSimulator;
  config: AllConfig;
  /** The store without counting, for seeding. */
  raw: RedisStateStore;
  /** The store the sweeper itself reads through, counting its calls. */
  counted: CountingStore;
  sweeper: AutoStopSweeper;
  close(): Promise<void>;
}

/**
 * Starts redis-server and the simulator and builds the sweeper. `wrapNovita` lets a caller observe the
 * Novita calls. On failure everything already started is stopped.
 */
export async function startSweeperRig(
  wrapNovita: (client: NovitaClient) => NovitaClient = (c) => c,
): Promise<SweeperRig> {
  Logger.overrideLogger(false);
  const redis = await startRedisServer();
  let sim: RunningSimulator | undefined;
  let raw: RedisStateStore | undefined;
  try {
    sim = await startSimulator({ seed: 5 });
    const config = loadConfig(
      {
        NOVITA_API_KEY: sim.apiKey,
        NOVITA_API_BASE_URL: sim.baseUrl,
        REDIS_URL: redis.url,
        AUTO_STOP_WARNING_MINUTES: '0',
      },
      { demoMode: false },
    );
    const configService = new ConfigService<AllConfig, true>(config as unknown as Record<string, unknown>);
    raw = new RedisStateStore({
      redisUrl: redis.url,
      keyPrefix: 'bench',
      connectTimeoutMs: 2000,
      commandTimeoutMs: 10_000,
    });
    const counted = countingStore(raw);
    const novita = wrapNovita(new HttpNovitaClient(config.novita));
    const repo = new InstanceRepository(raw);
    const operations = new OperationRepository(raw);
    const events = new InstanceEvents(new NullEmitter());
    const idle = new IdleDeadlines(repo, raw, configService);
    const lifecycle = new InstanceLifecycleService(
      repo,
      operations,
      novita,
      events,
      new CreateLookup(novita, repo),
      configService,
    );
    // Every part of the sweeper goes through the counting store, so each of its round trips is counted.
    const steps = new AutoStopSweepSteps(counted.store, operations, idle, novita, events);
    const sweeper = new AutoStopSweeper(
      counted.store,
      steps,
      new AutoStopWarnings(idle, events, steps, configService),
      new AutoStopIdleAction(counted.store, idle, lifecycle, steps),
      new AutoStopDeleteAfterStop(counted.store, idle, lifecycle, steps),
      configService,
    );
    const store = raw;
    const running = sim;
    return {
      redis,
      sim,
      config,
      raw,
      counted,
      sweeper,
      async close() {
        await store.close().catch(() => undefined);
        await running.close();
        await redis.stop();
      },
    };
  } catch (err) {
    await raw?.close().catch(() => undefined);
    await sim?.close();
    await redis.stop();
    throw err;
  }
}

/** Tracks `tracked` instances whose deadlines are an hour away (none due), in batches of 1,000. */
export async function trackNotDue(rig: SweeperRig, tracked: number): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < tracked; i += 1000)
    await rig.raw.sortedSetAdd(
      AUTOSTOP_DEADLINES_KEY,
      Array.from({ length: Math.min(1000, tracked - i) }, (_, j) => ({
        member: `inst_idle_${i + j}`,
        score: now + 3_600_000 + i + j,
      })),
    );
}

/** Runs `passes` sweeper passes; the store round trips and the time (ms) of each. */
export async function measurePasses(
  rig: SweeperRig,
  passes: number,
): Promise<{ trips: number[]; times: number[]; acted: number }> {
  const trips: number[] = [];
  const times: number[] = [];
  let acted = 0;
  for (let p = 0; p < passes; p++) {
    rig.counted.reset();
    const t0 = process.hrtime.bigint();
    const report = await rig.sweeper.sweep(Date.now(), { dryRun: false });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    trips.push(rig.counted.count());
    acted += report.acted.length;
  }
  return { trips, times, acted };
}

export async function run(opts: { quick: boolean }): Promise<ScenarioRow[]> {
  const tracked = opts.quick ? 1_000 : 10_000;
  const passes = opts.quick ? 10 : 50;
  const rig = await startSweeperRig();
  try {
    await trackNotDue(rig, tracked);
    // One pass first, so connection set-up and JIT warm-up are not in the measured passes.
    await measurePasses(rig, 1);
    const { trips, times, acted } = await measurePasses(rig, passes);
    const size = `${tracked.toLocaleString('en-US')} tracked, none due`;
    const maxTrips = Math.max(...trips);
    return [
      {
        scenario: SCENARIO,
        metric: `store round trips per pass (most in ${passes} passes), ${size}`,
        value: maxTrips,
        unit: 'round trips',
        target: '= 1',
        ok: maxTrips === 1 && Math.min(...trips) === 1,
        note: `real redis-server; fewest ${Math.min(...trips)}; instances acted on: ${acted}`,
      },
      {
        scenario: SCENARIO,
        metric: `pass time, median of ${passes}, ${size}`,
        value: median(times),
        unit: 'ms',
        note: `p90 ${percentile(times, 90).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms`,
      },
    ];
  } finally {
    await rig.close();
  }
}

if (require.main === module) runAlone(SCENARIO, run);
