import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode } from '../../common/errors';
import { AllConfig, WebhooksConfig } from '../../config/config.types';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { DeliveryRecord, DeliveryState } from './webhook-delivery.types';
import { EmitWebhookInput, EmitWebhookResult, WebhookEmitter, WebhookEventType } from './webhook-emitter';
import { eventIdFor, newDeliveryRecord, resolveTargetUrl } from './webhook-payload';
import { assertWebhookUrlAllowed, webhookUrlProblem } from './webhook-url.policy';

export interface DeliveryFilter {
  instanceId?: string;
  event?: WebhookEventType;
  state?: DeliveryState;
  limit: number;
  offset: number;
}

export interface DeliveryPage {
  deliveries: DeliveryRecord[];
  total: number;
  limit: number;
  offset: number;
}

/**
 * The outbox side of webhooks: emit() only records the event (never sends inline, so callers'
 * responses are not delayed by receivers); the delivery worker sends it. Also lists and replays deliveries.
 */
@Injectable()
export class WebhooksService extends WebhookEmitter {
  private readonly logger = new Logger(WebhooksService.name);
  private readonly config: WebhooksConfig;

  constructor(
    configService: ConfigService<AllConfig, true>,
    private readonly repository: WebhookDeliveryRepository,
  ) {
    super();
    this.config = configService.get('webhooks', { infer: true });
  }

  /**
   * For other modules, at request time: throws AppError(VALIDATION_ERROR) when the URL is not an
   * allowed target under the current configuration (DTOs check only the syntax).
   */
  assertUrlAllowed(url: string, field = 'webhookUrl'): void {
    assertWebhookUrlAllowed(url, this.config.allowPrivateTargets, field);
  }

  async emit(input: EmitWebhookInput): Promise<EmitWebhookResult> {
    const eventId = eventIdFor(input.dedupeKey);
    const url = resolveTargetUrl(input, this.config.url);
    if (!url) {
      const fresh = await this.repository.markEventSeen(eventId);
      return { eventId, deliveryId: null, duplicate: !fresh };
    }

    const now = new Date();
    let record = newDeliveryRecord(input, url, now);
    const problem = webhookUrlProblem(url, this.config.allowPrivateTargets);
    if (problem) {
      // Recorded rather than thrown: the event happened, and the listing shows why it went nowhere.
      record = { ...record, state: 'failed', nextAttemptAt: null, lastError: `target refused: ${problem}` };
    }

    // The outbox entry is written before any attempt, and only once per event id.
    const created = await this.repository.create(record);
    if (!created) {
      await this.repairIndexes(record.id);
      return { eventId, deliveryId: record.id, duplicate: true };
    }
    await this.repository.addToIndex(record);
    if (record.state === 'pending') await this.repository.schedule(record.id, now.getTime());
    this.logger.log(
      { eventId, deliveryId: record.id, type: input.type, instanceId: input.instanceId, state: record.state },
      problem ? 'Webhook target refused; event recorded as failed' : 'Webhook queued',
    );
    return { eventId, deliveryId: record.id, duplicate: false };
  }

  async listDeliveries(filter: DeliveryFilter): Promise<DeliveryPage> {
    const all = await this.repository.listAll();
    const matching = all.filter(
      (d) =>
        (!filter.instanceId || d.instanceId === filter.instanceId) &&
        (!filter.event || d.eventType === filter.event) &&
        (!filter.state || d.state === filter.state),
    );
    return {
      deliveries: matching.slice(filter.offset, filter.offset + filter.limit),
      total: matching.length,
      limit: filter.limit,
      offset: filter.offset,
    };
  }

  async getDelivery(id: string): Promise<DeliveryRecord> {
    const record = await this.repository.get(id);
    if (!record) throw AppError.notFound('Webhook delivery', { deliveryId: id });
    return record;
  }

  /**
   * Sends the same event again, due now: same event id (so receivers dedupe it), attempt history kept,
   * attempt budget reset. Refused while an attempt is in flight, to avoid two concurrent sends.
   */
  async redeliver(id: string, now: Date = new Date()): Promise<DeliveryRecord> {
    return this.repository.withDeliveryLock(id, async () => {
      const record = await this.repository.get(id);
      if (!record) throw AppError.notFound('Webhook delivery', { deliveryId: id });
      if (
        record.state === 'delivering' &&
        record.claimExpiresAt &&
        Date.parse(record.claimExpiresAt) > now.getTime()
      ) {
        throw new AppError(
          ErrorCode.CONFLICT,
          'An attempt for this delivery is in flight; retry once it ends',
          {
            deliveryId: id,
          },
        );
      }
      const at = now.toISOString();
      const reset: DeliveryRecord = {
        ...record,
        state: 'pending',
        attemptCount: 0,
        nextAttemptAt: at,
        updatedAt: at,
        claimExpiresAt: undefined,
        claimToken: undefined,
      };
      await this.repository.save(reset);
      await this.repository.addToIndex(reset);
      await this.repository.schedule(id, now.getTime());
      this.logger.log({ deliveryId: id, eventId: record.eventId }, 'Webhook redelivery requested');
      return reset;
    });
  }

  /** A replayed emit may follow a crash between writing the record and indexing it: index it again. */
  private async repairIndexes(id: string): Promise<void> {
    const existing = await this.repository.get(id);
    if (!existing) return;
    await this.repository.addToIndex(existing);
    if (existing.state === 'pending' && existing.nextAttemptAt) {
      await this.repository.schedule(id, Date.parse(existing.nextAttemptAt));
    }
  }
}
