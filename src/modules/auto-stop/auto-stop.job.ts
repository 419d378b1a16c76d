import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig, AutoStopConfig } from '../../config/config.types';
import { BackgroundLoop } from '../../infra/scheduling/background-loop.service';
import { PassResult } from '../../infra/scheduling/job.types';
import { AutoStopConsistencyCheck } from './auto-stop.consistency';
import { AutoStopSweeper, SweepReport, summarize } from './auto-stop.sweeper';

export const AUTO_STOP_JOB = 'auto-stop';
export const AUTO_STOP_CHECK_JOB = 'auto-stop-check';

/**
 * Registers the deadline sweep (frequent: every AUTO_STOP_SWEEP_INTERVAL_SECONDS, kept short so a
 * stop goes out seconds after its deadline) and the consistency check (periodic: every
 * AUTO_STOP_CHECK_INTERVAL_SECONDS) with the background loop. AUTO_STOP_ENABLED=false registers
 * both disabled: nothing is scheduled.
 */
@Injectable()
export class AutoStopJob implements OnModuleInit {
  private readonly logger = new Logger(AutoStopJob.name);
  private readonly config: AutoStopConfig;
  /** The report of the last manual pass on this replica (what POST .../trigger answers with). */
  private lastManual: SweepReport | null = null;
  private lastDryRunKey = '';

  constructor(
    private readonly loop: BackgroundLoop,
    private readonly sweeper: AutoStopSweeper,
    private readonly check: AutoStopConsistencyCheck,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.config = configService.get('autoStop', { infer: true });
  }

  onModuleInit(): void {
    this.loop.register({
      name: AUTO_STOP_JOB,
      kind: 'frequent',
      enabled: this.config.enabled,
      intervalMs: this.config.sweepIntervalSeconds * 1000,
      run: async (ctx): Promise<PassResult> => {
        const report = await this.sweeper.sweep(Date.now(), {
          dryRun: this.config.dryRun,
          keepAlive: () => ctx.keepAlive(),
        });
        if (ctx.trigger === 'manual') this.lastManual = report;
        this.log(report);
        const s = summarize(report);
        return {
          counts: {
            due: report.due,
            stopped: s.stopped as number,
            deleted: s.deleted as number,
            warned: report.warned.length,
            retried: report.retried.length,
            errors: report.errors.length,
          },
          outcome: report.errors.length > 0 ? 'partial' : 'succeeded',
        };
      },
    });
    this.loop.register({
      name: AUTO_STOP_CHECK_JOB,
      kind: 'periodic',
      enabled: this.config.enabled,
      intervalMs: this.config.checkIntervalSeconds * 1000,
      run: async () => {
        const report = await this.check.run(Date.now(), { dryRun: this.config.dryRun });
        return { counts: { ...report } };
      },
    });
  }

  /** Real passes log what they did; dry runs repeat the same list every pass, so only a change is logged. */
  private log(report: SweepReport): void {
    if (report.acted.length === 0 && report.errors.length === 0) return;
    if (report.dryRun) {
      const key = report.acted.map((c) => `${c.instanceId}:${c.action}`).join(',');
      if (key === this.lastDryRunKey) return;
      this.lastDryRunKey = key;
      this.logger.log(
        {
          wouldAct: report.acted.map((c) => ({
            instanceId: c.instanceId,
            action: c.action,
            reason: c.reason,
          })),
        },
        'Auto-stop dry run: these instances would be acted on',
      );
      return;
    }
    this.logger.log(summarize(report), 'Auto-stop pass');
  }

  /** One real pass now on this replica; throws PassInProgressError when one is running here. */
  async runNow(): Promise<SweepReport> {
    this.lastManual = null;
    const summary = await this.loop.runNow(AUTO_STOP_JOB);
    if (!this.lastManual) throw new Error(summary.error ?? 'the auto-stop pass failed');
    return this.lastManual;
  }
}
