import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  DELIVERY_STATES,
  DeliveryAttempt,
  DeliveryRecord,
  DeliveryState,
  WebhookPayload,
} from '../webhook-delivery.types';
import { ApiInt } from '../../../common/http/api-number.decorators';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '../webhook-emitter';

export class WebhookDeliveryAttemptResponse {
  /** When the attempt started (ISO 8601). */
  @ApiProperty()
  at: string;
  /** HTTP status the receiver answered, when it answered. */
  @ApiInt({ required: false })
  status?: number;
  /** Network error, timeout or refused target. */
  @ApiPropertyOptional()
  error?: string;
  @ApiInt()
  durationMs: number;
}

export class WebhookDeliveryResponse {
  @ApiProperty({ example: 'whd_3f2a9c1b0d4e5f6a7b8c9d0e' })
  id: string;
  /** The event id: the webhook-id header and payload id, identical on every attempt and redelivery. */
  @ApiProperty({ example: 'evt_3f2a9c1b0d4e5f6a7b8c9d0e' })
  eventId: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES })
  eventType: WebhookEventType;
  @ApiProperty()
  instanceId: string;
  @ApiProperty()
  url: string;
  @ApiProperty({ enum: DELIVERY_STATES })
  state: DeliveryState;
  /** Attempts used from the current budget (a redelivery resets it; attempts keeps the history). */
  @ApiInt()
  attemptCount: number;
  @ApiProperty({ type: [WebhookDeliveryAttemptResponse] })
  attempts: WebhookDeliveryAttemptResponse[];
  /** Next attempt (ISO 8601); null once the delivery is final. */
  @ApiProperty({ type: String, nullable: true })
  nextAttemptAt: string | null;
  @ApiPropertyOptional()
  lastError?: string;
  @ApiProperty()
  createdAt: string;
  @ApiProperty()
  updatedAt: string;
  /** The exact JSON body sent to the receiver. */
  @ApiProperty({ type: 'object', additionalProperties: true })
  payload: WebhookPayload;
}

export class WebhookDeliveryListResponse {
  @ApiProperty({ type: [WebhookDeliveryResponse] })
  deliveries: WebhookDeliveryResponse[];
  /** Matching deliveries before paging. */
  @ApiInt()
  total: number;
  @ApiInt()
  limit: number;
  @ApiInt()
  offset: number;
}

export function toWebhookDeliveryResponse(record: DeliveryRecord): WebhookDeliveryResponse {
  return {
    id: record.id,
    eventId: record.eventId,
    eventType: record.eventType,
    instanceId: record.instanceId,
    url: record.url,
    state: record.state,
    attemptCount: record.attemptCount,
    attempts: record.attempts.map(toAttemptResponse),
    nextAttemptAt: record.nextAttemptAt,
    ...(record.lastError ? { lastError: record.lastError } : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    payload: record.payload,
  };
}

function toAttemptResponse(attempt: DeliveryAttempt): WebhookDeliveryAttemptResponse {
  return {
    at: attempt.at,
    ...(attempt.status !== undefined ? { status: attempt.status } : {}),
    ...(attempt.error !== undefined ? { error: attempt.error } : {}),
    durationMs: attempt.durationMs,
  };
}
