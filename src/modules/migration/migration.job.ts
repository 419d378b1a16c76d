import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { HealthBlockRegistry } from '../../infra/health/health-blocks';
import { ConfigService } from '@nestjs/config';
import { AllConfig } from '../../config/config.types';
import { BackgroundLoop } from '../../infra/scheduling/background-loop.service';
import { MigrationRunner } from './migration-runner.service';
import { MigrationViews } from './migration-views';
import {
  MIGRATION_PASS_JOB,
  MIGRATION_RUNNER_JOB,
  MigrationService,
  RECLAIM_CHECK_JOB,
} from './migration.service';

/**
 * Three jobs on the one background loop:
 * - migration-reclaim-check (frequent): the quick check of tracked managed spot instances; with the
 *   default 10 s a reclaim becomes a migration well within 30 s, and a replica taking over the lease
 *   after a crash still makes it within about 30 s;
 * - migration-runner (frequent, every OPERATIONS_RECONCILE_INTERVAL_MS): advances open migrations;
 * - migration-pass (periodic, every MIGRATION_INTERVAL_MINUTES, first at startup): the spec's full
 *   pass over the account; its runs are the executions of /api/migration/status and /history.
 * Frequent jobs run on the one replica holding their lease; the periodic pass holds a run lock.
 */
@Injectable()
export class MigrationJob implements OnModuleInit {
  constructor(
    private readonly loop: BackgroundLoop,
    private readonly migration: MigrationService,
    private readonly runner: MigrationRunner,
    private readonly views: MigrationViews,
    private readonly config: ConfigService<AllConfig, true>,
    @Optional() private readonly healthBlocks?: HealthBlockRegistry,
  ) {}

  onModuleInit(): void {
    this.healthBlocks?.register('migrationService', async () => ({
      ...(await this.views.healthBlock()),
    }));
    const cfg = this.config.get('migration', { infer: true });
    const instances = this.config.get('instances', { infer: true });
    this.loop.register({
      name: RECLAIM_CHECK_JOB,
      kind: 'frequent',
      enabled: cfg.enabled,
      intervalMs: cfg.reclaimCheckIntervalSeconds * 1000,
      run: async () => {
        const counts = await this.migration.checkReclaims();
        return {
          // Only a pass that found something enters the loop's in-memory history.
          counts: { reclaimed: counts.reclaimed, started: counts.started, errors: counts.errors },
          outcome: counts.errors > 0 ? 'partial' : 'succeeded',
        };
      },
    });
    this.loop.register({
      name: MIGRATION_RUNNER_JOB,
      kind: 'frequent',
      // Always on: migrations opened before a restart with MIGRATION_ENABLED=false still finish.
      enabled: true,
      intervalMs: instances.reconcileIntervalMs,
      run: async () => {
        const { advanced, succeeded, failed, errors } = await this.runner.runOnce();
        // Waiting migrations are not activity: only steps taken enter the loop's in-memory history.
        return {
          counts: { advanced, succeeded, failed, errors },
          outcome: errors > 0 ? 'partial' : 'succeeded',
        };
      },
    });
    this.loop.register({
      name: MIGRATION_PASS_JOB,
      kind: 'periodic',
      enabled: cfg.enabled,
      runOnStart: true,
      intervalMs: cfg.intervalMinutes * 60_000,
      run: (ctx) => this.migration.runPass(ctx),
    });
  }
}
