/**
 * Sync benchmark: one sync pass over N simulator instances against a plain loop that only fetches the
 * same Novita pages, alternating rounds in one process; and the store round trips a pass makes.
 * Usage: npx ts-node --transpile-only bench/sync.bench.ts [instances=10000] [rounds=3]
 */
import { ConfigService } from '@nestjs/config';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.loader';
import { CacheRegistry } from '../src/infra/metrics/cache-registry';
import { HttpNovitaClient } from '../src/infra/novita/http-novita-client';
import { NovitaListing } from '../src/infra/novita/novita-listing';
import { MemoryStateStore } from '../src/infra/store/memory-state-store';
import { RedisStateStore } from '../src/infra/store/redis-state-store';
import { StateStore } from '../src/infra/store/state-store';
import { InstanceEvents } from '../src/modules/records/instance-events';
import { SyncMarks } from '../src/modules/records/sync-marks';
import { InstanceRepository } from '../src/modules/records/instance.repository';
import { OperationRepository } from '../src/modules/records/operation.repository';
import { SYNC_PAGE_SIZE, SyncService } from '../src/modules/sync/sync.service';
import { WebhookEmitter } from '../src/modules/webhooks/webhook-emitter';
import { countingStore } from '../test/support/counting-store';
import { startRedisServer } from '../test/support/redis-server';
import { freePort } from '../test/support/service-process';

/**
 * The simulator runs in its own process, as Novita is remote: its CPU (building 10,000 wire objects
 * per walk) must not be charged to the pass being measured.
 */
async function startSimulatorProcess(
  n: number,
): Promise<{ baseUrl: string; apiKey: string; stop: () => void }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'simulator', 'main.ts')],
    {
      env: { ...process.env, SIM_PORT: String(port), SIM_SEED_DEMO: '0', SIM_API_KEY: 'sk_bench' },
      stdio: 'ignore',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${url}/__sim/state`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seeded = await fetch(`${url}/__sim/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ n, instance: { status: 'running' } }),
  });
  if (!seeded.ok) throw new Error(`seeding failed: ${seeded.status}`);
  return { baseUrl: `${url}/gpu-instance/openapi/v1`, apiKey: 'sk_bench', stop: () => child.kill('SIGKILL') };
}

const N = Number(process.argv[2] ?? 10_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const options = { forceSync: false, handleObsoleteInstances: true, dryRun: false };

/** Counts every call into the store: each is one round trip for the network adapters. */
class NullEmitter extends WebhookEmitter {
  async emit() {
    return { eventId: 'x', deliveryId: null, duplicate: false };
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const sim = await startSimulatorProcess(N);
  const redis = await startRedisServer();
  const config = loadConfig({ NOVITA_API_KEY: sim.apiKey, NOVITA_API_BASE_URL: sim.baseUrl });
  const configService = new ConfigService(config as never);
  const novita = new HttpNovitaClient(config.novita);
  const results: string[] = [];
  for (const [name, raw] of [
    ['memory', new MemoryStateStore()],
    ['redis', new RedisStateStore({ ...config.store, redisUrl: redis.url, keyPrefix: 'bench-sync' })],
  ] as [string, StateStore][]) {
    const { store, count, reset } = countingStore(raw);
    const repo = new InstanceRepository(store);
    const sync = new SyncService(
      repo,
      new OperationRepository(store),
      novita,
      new InstanceEvents(new NullEmitter()),
      configService as never,
      new NovitaListing(novita, new CacheRegistry()),
      new SyncMarks(store),
    );
    const walk: number[] = [];
    const pass: number[] = [];
    const trips: number[] = [];
    await sync.run('warm', options); // first pass adopts everything; the rounds measure steady passes
    for (let r = 0; r < ROUNDS; r++) {
      let t = Date.now();
      for (let page = 1; ; page++) {
        const { instances, total } = await novita.listInstances(page, SYNC_PAGE_SIZE);
        if (instances.length < SYNC_PAGE_SIZE || page * SYNC_PAGE_SIZE >= total) break;
      }
      walk.push(Date.now() - t);
      reset();
      t = Date.now();
      await sync.run(`r${r}`, options);
      pass.push(Date.now() - t);
      trips.push(count());
    }
    // An adopting pass writes every record: measure its round trips on a fresh store too.
    const fresh = countingStore(raw.kind === 'memory' ? new MemoryStateStore() : raw);
    if (raw.kind === 'memory') {
      const s2 = new SyncService(
        new InstanceRepository(fresh.store),
        new OperationRepository(fresh.store),
        novita,
        new InstanceEvents(new NullEmitter()),
        configService as never,
        new NovitaListing(novita, new CacheRegistry()),
        new SyncMarks(fresh.store),
      );
      await s2.run('adopt', options);
    }
    const pages = Math.ceil(N / SYNC_PAGE_SIZE);
    results.push(
      `| ${name} | ${N} | ${pages} | ${median(walk)} | ${median(pass)} | ${(median(pass) / median(walk)).toFixed(2)} | ${median(trips)}${raw.kind === 'memory' ? ` (adopting pass: ${fresh.count()})` : ''} |`,
    );
    await store.close().catch(() => undefined);
  }
  console.log(
    '| store | instances | pages | page walk ms | sync pass ms | pass / walk | store round trips per pass |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) console.log(r);
  sim.stop();
  await redis.stop();
}

void main();
