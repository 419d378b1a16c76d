import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DELIVERY_STATES, DeliveryState } from '../webhook-delivery.types';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '../webhook-emitter';

export class ListWebhookDeliveriesQuery {
  /** Only deliveries about this instance. */
  @ApiPropertyOptional({ description: 'Only deliveries about this instance' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  instanceId?: string;

  /** Only this event type. */
  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES })
  @IsOptional()
  @IsIn(WEBHOOK_EVENT_TYPES)
  event?: WebhookEventType;

  /** Only deliveries in this state. */
  @ApiPropertyOptional({ enum: DELIVERY_STATES })
  @IsOptional()
  @IsIn(DELIVERY_STATES)
  state?: DeliveryState;

  /** Page size, newest first. */
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number = 50;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number = 0;
}
