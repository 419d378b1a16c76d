import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { loadConfig } from '../../config/config.loader';
import { HealthBlockRegistry, HealthBlocksModule } from '../../infra/health/health-blocks';
import { ShutdownState } from '../../infra/lifecycle/shutdown-state';
import { MetricsService } from '../../infra/metrics/metrics.service';
import { MemoryStateStore } from '../../infra/store/memory-state-store';
import { DetailedHealthService } from './detailed-health.service';
import { HealthModule } from './health.module';

/** Stands for a feature module (sync, migration) that contributes its own /health block. */
@Injectable()
class SyncStatusContributor implements OnModuleInit {
  constructor(private readonly blocks: HealthBlockRegistry) {}
  onModuleInit(): void {
    this.blocks.register('sync', () => ({
      available: true,
      lastSync: '2026-01-15T10:30:00.000Z',
      isLocked: false,
    }));
  }
}

@Module({ imports: [HealthBlocksModule], providers: [SyncStatusContributor] })
class FakeSyncModule {}

describe(DetailedHealthService.name, () => {
  async function boot() {
    const config = loadConfig({ NOVITA_API_KEY: 'sk', NOVITA_API_BASE_URL: 'http://127.0.0.1:9/v1' });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
        HealthModule,
        FakeSyncModule,
      ],
    }).compile();
    await moduleRef.init();
    return moduleRef;
  }

  it('reports services, performance and system, plus the blocks other modules contribute', async () => {
    const moduleRef = await boot();
    const metrics = moduleRef.get(MetricsService);
    metrics.recordJobPass('sync', 'success', 0.5);
    metrics.recordJobPass('webhooks', 'failure', 0.1, 'store timeout');
    metrics.recordHttp('GET', '/api/instances', 200, 0.01);

    const report = await moduleRef.get(DetailedHealthService).report();
    expect(report.status).toBe('degraded'); // a job's last pass failed
    expect(report.services.store).toMatchObject({ status: 'up', adapter: 'memory' });
    expect(report.services.novitaApi).toMatchObject({ status: 'up', circuit: 'closed' });
    expect(report.services.jobs.sync).toMatchObject({ status: 'up', passes: 1 });
    expect(report.services.jobs.webhooks).toMatchObject({ status: 'failing', lastError: 'store timeout' });
    expect(report.performance.requestsPerMinute).toBe(1);
    expect(report.sync).toEqual({ available: true, lastSync: '2026-01-15T10:30:00.000Z', isLocked: false });
    await moduleRef.close();
  });

  it('is unhealthy when the store is down, and says so while shutting down', async () => {
    const moduleRef = await boot();
    // The store is wrapped for timing, so fail the adapter underneath.
    const ping = jest.spyOn(MemoryStateStore.prototype, 'ping').mockRejectedValue(new Error('ECONNREFUSED'));
    const down = await moduleRef.get(DetailedHealthService).report();
    expect(down.status).toBe('unhealthy');
    expect(down.services.store).toMatchObject({ status: 'down', message: 'ECONNREFUSED' });

    moduleRef.get(ShutdownState).begin();
    expect((await moduleRef.get(DetailedHealthService).report()).status).toBe('shutting_down');
    ping.mockRestore();
    await moduleRef.close();
  });
});
