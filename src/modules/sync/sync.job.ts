import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { HealthBlockRegistry } from '../../infra/health/health-blocks';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode } from '../../common/errors';
import { AllConfig, SyncConfig } from '../../config/config.types';
import { BackgroundLoop } from '../../infra/scheduling/background-loop.service';
import { PassInProgressError, RunSummary } from '../../infra/scheduling/job.types';
import { InstanceRepository } from '../records/instance.repository';
import { SyncService } from './sync.service';
import { SyncOptions, SyncReport } from './sync.types';

export const SYNC_JOB = 'sync';
/** Errors kept with a run in the history (the HTTP answer carries them all). */
const ERRORS_KEPT = 20;

export interface SyncHealthBlock {
  available: boolean;
  lastSync: string | null;
  isLocked: boolean;
  cacheSize: number | null;
  lastResult: {
    runId: string;
    outcome: string;
    finishedAt: string;
    counts: Record<string, number>;
    error?: string;
  } | null;
  nextSync: string | null;
}

/**
 * Sync as a periodic background job: once at startup, then every SYNC_INTERVAL_MINUTES when
 * SYNC_ENABLE_AUTOMATIC_SYNC=true, on one replica at a time. Manual passes (the API) run through the
 * same job, so they never overlap a scheduled one and land in the same history.
 */
@Injectable()
export class SyncJob implements OnModuleInit {
  private readonly config: SyncConfig;

  constructor(
    private readonly loop: BackgroundLoop,
    private readonly sync: SyncService,
    private readonly repo: InstanceRepository,
    configService: ConfigService<AllConfig, true>,
    @Optional() private readonly healthBlocks?: HealthBlockRegistry,
  ) {
    this.config = configService.get('sync', { infer: true });
  }

  onModuleInit(): void {
    this.healthBlocks?.register('sync', async () => ({ ...(await this.health()) }));
    this.loop.register({
      name: SYNC_JOB,
      kind: 'periodic',
      // The startup pass always runs; the periodic ones only with SYNC_ENABLE_AUTOMATIC_SYNC=true.
      runOnStart: true,
      enabled: true,
      intervalMs: this.config.enableAutomaticSync
        ? this.config.intervalMinutes * 60_000
        : Number.POSITIVE_INFINITY,
      run: async (ctx) => {
        const options: SyncOptions = {
          forceSync: false,
          handleObsoleteInstances: true,
          dryRun: false,
          ...(ctx.options as Partial<SyncOptions>),
        };
        const report = await this.sync.run(ctx.runId, options, ctx.keepAlive);
        return {
          outcome: report.errors.length > 0 ? 'partial' : 'succeeded',
          counts: {
            novitaInstances: report.novitaInstances,
            localInstances: report.localInstances,
            afterSync: report.afterSync,
            updated: report.updated,
            adopted: report.adopted,
            markedObsolete: report.markedObsolete,
            removed: report.instancesRemoved,
            pages: report.pages,
            errors: report.errors.length,
          },
          details: { report: { ...report, errors: report.errors.slice(0, ERRORS_KEPT) } },
        };
      },
    });
  }

  /** Runs one pass now; 409 naming the running pass when one is in progress anywhere. */
  async trigger(options: SyncOptions): Promise<SyncReport> {
    let summary: RunSummary;
    try {
      summary = await this.loop.runNow(SYNC_JOB, { ...options });
    } catch (err) {
      if (err instanceof PassInProgressError) {
        throw new AppError(ErrorCode.OPERATION_IN_PROGRESS, 'A sync pass is already running', {
          runId: err.runId,
        });
      }
      throw err;
    }
    if (summary.outcome === 'failed') {
      throw new AppError(
        ErrorCode.UPSTREAM_UNAVAILABLE,
        `Sync failed; nothing was changed by the failed step: ${summary.error}`,
        {
          runId: summary.id,
        },
      );
    }
    return (summary.details as { report: SyncReport }).report;
  }

  async history(limit: number): Promise<RunSummary[]> {
    return (await this.loop.status(SYNC_JOB)).history.slice(0, limit);
  }

  async health(): Promise<SyncHealthBlock> {
    const status = await this.loop.status(SYNC_JOB);
    const last = status.lastRun;
    return {
      available: true,
      lastSync: status.lastSuccessAt,
      isLocked: status.running !== null,
      cacheSize: last ? (last.counts.afterSync ?? null) : null,
      lastResult: last
        ? {
            runId: last.id,
            outcome: last.outcome,
            finishedAt: last.finishedAt,
            counts: last.counts,
            ...(last.error ? { error: last.error } : {}),
          }
        : null,
      nextSync: status.nextRunAt,
    };
  }
}
