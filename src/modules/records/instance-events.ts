import { Injectable, Logger, Optional } from '@nestjs/common';
import { WebhookEmitter, WebhookEventType } from '../webhooks/webhook-emitter';
import { WebhooksService } from '../webhooks/webhooks.service';
import { toInstanceResponse, toOperationResponse } from './instance.mapper';
import { InstanceRecord } from './instance.types';
import { OperationRecord } from './operation.types';

export interface InstanceEventOptions {
  /** Stable per logical event, e.g. `${operationId}:ready`, so a replayed step yields one delivery. */
  dedupeKey: string;
  operation?: OperationRecord;
  /** The request's (or operation's) webhook URL; overrides the instance's stored one. */
  url?: string | null;
  reason?: string;
  extra?: Record<string, unknown>;
}

/** Announces instance transitions through the WebhookEmitter, with the instance snapshot as data. */
@Injectable()
export class InstanceEvents {
  private readonly logger = new Logger(InstanceEvents.name);

  constructor(
    private readonly emitter: WebhookEmitter,
    @Optional() private readonly webhooks?: WebhooksService,
  ) {}

  /** Refuses a request's webhook URL the webhooks module would not deliver to (private targets...). */
  assertUrlAllowed(url: string | undefined | null): void {
    if (url && this.webhooks) this.webhooks.assertUrlAllowed(url);
  }

  /** Throws when the event could not be recorded: reconciler steps rely on that to retry. */
  async emit(type: WebhookEventType, record: InstanceRecord, opts: InstanceEventOptions): Promise<void> {
    await this.emitter.emit({
      type,
      instanceId: record.id,
      url: opts.url ?? null,
      instanceWebhookUrl: record.webhookUrl,
      dedupeKey: opts.dedupeKey,
      data: {
        instance: toInstanceResponse(record),
        ...(opts.operation ? { operation: toOperationResponse(opts.operation) } : {}),
        ...(opts.reason ? { reason: opts.reason } : {}),
        ...(opts.extra ?? {}),
      },
    });
  }

  /** For request paths where the action already happened: a failed emit is logged, not turned into a failed request. */
  async emitSafely(
    type: WebhookEventType,
    record: InstanceRecord,
    opts: InstanceEventOptions,
  ): Promise<void> {
    try {
      await this.emit(type, record, opts);
    } catch (err) {
      this.logger.error(
        { err, instanceId: record.id, type, dedupeKey: opts.dedupeKey },
        'Could not record webhook event',
      );
    }
  }
}
