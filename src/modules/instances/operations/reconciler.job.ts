import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig } from '../../../config/config.types';
import { BackgroundLoop } from '../../../infra/scheduling/background-loop.service';
import { ReconcilerService } from './reconciler.service';

export const OPERATIONS_JOB = 'operations';

/** Registers the operations reconciler with the background loop (every OPERATIONS_RECONCILE_INTERVAL_MS). */
@Injectable()
export class ReconcilerJob implements OnModuleInit {
  private readonly logger = new Logger(ReconcilerJob.name);

  constructor(
    private readonly loop: BackgroundLoop,
    private readonly reconciler: ReconcilerService,
    private readonly config: ConfigService<AllConfig, true>,
  ) {}

  onModuleInit(): void {
    this.loop.register({
      name: OPERATIONS_JOB,
      kind: 'frequent',
      enabled: true,
      intervalMs: this.config.get('instances', { infer: true }).reconcileIntervalMs,
      run: async () => {
        const summary = await this.reconciler.reconcileOnce(Date.now());
        if (summary.checked > 0) this.logger.debug({ ...summary }, 'Reconciler pass');
        return { counts: { ...summary }, outcome: summary.errors > 0 ? 'partial' : 'succeeded' };
      },
    });
  }
}
