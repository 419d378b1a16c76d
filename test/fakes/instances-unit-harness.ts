import { CacheRegistry } from '../../src/infra/metrics/cache-registry';
import { NovitaListing } from '../../src/infra/novita/novita-listing';
import { InstanceRefresher } from '../../src/modules/instances/instance-refresher';
import { IntentSettler } from '../../src/modules/instances/operations/intent-settler';
import { BackgroundLoop } from '../../src/infra/scheduling/background-loop.service';
import { SyncJob } from '../../src/modules/sync/sync.job';
import { SyncService } from '../../src/modules/sync/sync.service';
import { CreateLookup } from '../../src/modules/instances/create-lookup';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { loadConfig } from '../../src/config/config.loader';
import { AllConfig } from '../../src/config/config.types';
import { MemoryStateStore } from '../../src/infra/store/memory-state-store';
import { IdempotencyService } from '../../src/modules/instances/idempotency.service';
import { InstanceCreateService } from '../../src/modules/instances/instance-create.service';
import { InstanceEvents } from '../../src/modules/records/instance-events';
import { InstanceLifecycleService } from '../../src/modules/instances/instance-lifecycle.service';
import { InstanceQueryService } from '../../src/modules/instances/instance-query.service';
import { InstancePages } from '../../src/modules/records/instance-pages';
import { InstanceRepository } from '../../src/modules/records/instance.repository';
import { SyncMarks } from '../../src/modules/records/sync-marks';
import { NovitaCatalogService } from '../../src/modules/instances/novita-catalog.service';
import { OperationRepository } from '../../src/modules/records/operation.repository';
import { ProbeResult, ReadinessProber } from '../../src/modules/instances/operations/readiness-check';
import { ReconcilerService } from '../../src/modules/instances/operations/reconciler.service';
import { FakeNovitaClient, fakeProduct } from './fake-novita-client';
import { FakeWebhookEmitter } from './fake-webhook-emitter';

/** Answers what the test says, and records every URL probed. */
export class FakeProber extends ReadinessProber {
  readonly probes: string[] = [];
  answer: ProbeResult = { ok: true, httpStatus: 200, durationMs: 1 };

  override async probe(url: string): Promise<ProbeResult> {
    this.probes.push(url);
    return this.answer;
  }
}

/** The instances services wired by hand over the memory store and the fakes. */
export function buildInstancesHarness(env: Record<string, string> = {}) {
  // Unit specs assert state and events, not log lines.
  Logger.overrideLogger(false);
  const config: AllConfig = loadConfig(
    {
      NOVITA_API_KEY: 'test',
      OPERATIONS_RECONCILE_INTERVAL_MS: '200',
      HEALTH_CHECK_RETRY_DELAY_MS: '500',
      REGION_FALLBACK_ORDER: 'AS-SGP-02,CN-HK-01,US-CA-06',
      ...env,
    },
    { demoMode: false },
  );
  const configService = new ConfigService<AllConfig, true>(config as unknown as Record<string, unknown>);
  const store = new MemoryStateStore();
  const novita = new FakeNovitaClient();
  novita.products = [
    fakeProduct({ id: 'p-sgp', regions: ['AS-SGP-02 (Singapore)'], spotPrice: 0.17, onDemandPrice: 0.35 }),
    fakeProduct({ id: 'p-hk', regions: ['CN-HK-01 (Hong Kong)'], spotPrice: 0.16, onDemandPrice: 0.34 }),
    fakeProduct({ id: 'p-ca', regions: ['US-CA-06 (California)'], spotPrice: 0.19, onDemandPrice: 0.39 }),
  ];
  novita.templates = [
    {
      id: 't1',
      name: 'web',
      imageUrl: 'ghcr.io/x/web:1',
      ports: [
        { port: 8080, type: 'http' },
        { port: 22, type: 'tcp' },
      ],
      envs: [{ key: 'A', value: '1' }],
      command: 'serve',
      rootfsSize: 50,
    },
    { id: 't2', name: 'private', imageUrl: 'registry.local/x:1', imageAuthId: 'auth1', ports: [], envs: [] },
  ];
  novita.registryAuths = [{ id: 'auth1', name: 'registry.local', username: 'bot', password: 'secret' }];
  const emitter = new FakeWebhookEmitter();
  const prober = new FakeProber();
  const repo = new InstanceRepository(store);
  const operations = new OperationRepository(store);
  const events = new InstanceEvents(emitter);
  const catalog = new NovitaCatalogService(novita);
  const idempotency = new IdempotencyService(store, configService);
  const creator = new InstanceCreateService(
    repo,
    operations,
    novita,
    catalog,
    events,
    idempotency,
    configService,
  );
  const createLookup = new CreateLookup(novita, repo);
  const lifecycle = new InstanceLifecycleService(
    repo,
    operations,
    novita,
    events,
    createLookup,
    configService,
  );
  const loop = new BackgroundLoop(store);
  const caches = new CacheRegistry();
  const listing = new NovitaListing(novita, caches);
  const sync = new SyncService(
    repo,
    operations,
    novita,
    events,
    configService,
    listing,
    new SyncMarks(store),
  );
  const syncJob = new SyncJob(loop, sync, repo, configService);
  syncJob.onModuleInit();
  const refresher = new InstanceRefresher(repo, novita, store, configService);
  const pages = new InstancePages(store, repo);
  const query = new InstanceQueryService(repo, pages, refresher, listing, syncJob, configService, caches);
  const intents = new IntentSettler(
    operations,
    repo,
    novita,
    events,
    createLookup,
    idempotency,
    configService,
  );
  const reconciler = new ReconcilerService(operations, repo, novita, events, prober, intents, configService);
  return {
    pages,
    config,
    configService,
    store,
    novita,
    emitter,
    prober,
    repo,
    operations,
    events,
    catalog,
    idempotency,
    creator,
    lifecycle,
    query,
    refresher,
    listing,
    caches,
    reconciler,
    intents,
    loop,
    sync,
    syncJob,
  };
}

export type InstancesHarness = ReturnType<typeof buildInstancesHarness>;
