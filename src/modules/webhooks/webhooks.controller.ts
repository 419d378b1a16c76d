import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { PathParamPipe } from '../../common/http/path-param.pipe';
import { ListWebhookDeliveriesQuery } from './dto/list-webhook-deliveries.query';
import {
  WebhookDeliveryListResponse,
  WebhookDeliveryResponse,
  toWebhookDeliveryResponse,
} from './dto/webhook-delivery.response';
import { WebhooksService } from './webhooks.service';

/** Delivery ids are whd_ and 24 hex characters (webhook-payload.ts). */
export const DELIVERY_ID_PATTERN = /^whd_[0-9a-f]{24}$/;
const deliveryIdPipe = new PathParamPipe('id', DELIVERY_ID_PATTERN, 'whd_ followed by 24 lowercase hex characters');

@ApiTags('webhooks')
@Controller('api/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** Lists webhook deliveries (newest first) with their attempts, kept for 7 days. */
  @Get('deliveries')
  @ApiOkResponse({ type: WebhookDeliveryListResponse })
  async listWebhookDeliveries(
    @Query() query: ListWebhookDeliveriesQuery,
  ): Promise<WebhookDeliveryListResponse> {
    const page = await this.webhooks.listDeliveries({
      instanceId: query.instanceId,
      event: query.event,
      state: query.state,
      limit: query.limit ?? 50,
      offset: query.offset ?? 0,
    });
    return { ...page, deliveries: page.deliveries.map(toWebhookDeliveryResponse) };
  }

  /** One webhook delivery with its payload and every attempt. */
  @Get('deliveries/:id')
  @ApiOkResponse({ type: WebhookDeliveryResponse })
  @ApiNotFoundResponse({ description: 'Unknown or expired delivery id' })
  async getWebhookDelivery(@Param('id', deliveryIdPipe) id: string): Promise<WebhookDeliveryResponse> {
    return toWebhookDeliveryResponse(await this.webhooks.getDelivery(id));
  }

  /**
   * Queues the same event again, due now: same webhook-id (receivers can dedupe), attempt history kept,
   * attempt budget reset. 409 while an attempt is in flight.
   */
  @Post('deliveries/:id/redeliver')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiAcceptedResponse({ type: WebhookDeliveryResponse })
  @ApiNotFoundResponse({ description: 'Unknown or expired delivery id' })
  async redeliverWebhookDelivery(@Param('id', deliveryIdPipe) id: string): Promise<WebhookDeliveryResponse> {
    return toWebhookDeliveryResponse(await this.webhooks.redeliver(id));
  }
}
