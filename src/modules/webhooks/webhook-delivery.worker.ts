import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig } from '../../config/config.types';
import { BackgroundLoop } from '../../infra/scheduling/background-loop.service';
import { WebhookDeliveryService } from './webhook-delivery.service';

export const WEBHOOK_JOB = 'webhooks';

/**
 * Registers webhook delivery with the background loop: every WEBHOOK_WORKER_INTERVAL_MS the replica
 * holding the job's lease delivers what is due. All delivery logic lives in WebhookDeliveryService.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnModuleInit {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);

  constructor(
    private readonly configService: ConfigService<AllConfig, true>,
    private readonly loop: BackgroundLoop,
    private readonly delivery: WebhookDeliveryService,
  ) {}

  onModuleInit(): void {
    this.loop.register({
      name: WEBHOOK_JOB,
      kind: 'frequent',
      enabled: true,
      intervalMs: this.configService.get('webhooks', { infer: true }).workerIntervalMs,
      run: async () => {
        const summary = await this.delivery.deliverDue(Date.now());
        if (summary.due > 0) this.logger.log({ ...summary }, 'Webhook delivery pass');
        return { counts: { ...summary } };
      },
    });
  }
}
