import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../../common/http/api-error-responses.decorator';
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
const deliveryIdPipe = new PathParamPipe(
  'id',
  DELIVERY_ID_PATTERN,
  'whd_ followed by 24 lowercase hex characters',
);

const ApiDeliveryIdParam = (): MethodDecorator =>
  ApiParam({
    name: 'id',
    description: 'Delivery id; 404 when unknown or expired (deliveries are kept 7 days)',
    schema: { type: 'string', pattern: DELIVERY_ID_PATTERN.source },
  });

@ApiTags('webhooks')
@Controller('api/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** Lists webhook deliveries (newest first) with their attempts, kept for 7 days. */
  @Get('deliveries')
  @ApiOkResponse({ type: WebhookDeliveryListResponse, description: 'One page of deliveries' })
  @ApiErrorResponses(400, 401, 429, 503)
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
  @ApiOkResponse({ type: WebhookDeliveryResponse, description: 'The delivery' })
  @ApiDeliveryIdParam()
  @ApiErrorResponses(400, 401, 404, 429, 503)
  async getWebhookDelivery(@Param('id', deliveryIdPipe) id: string): Promise<WebhookDeliveryResponse> {
    return toWebhookDeliveryResponse(await this.webhooks.getDelivery(id));
  }

  /**
   * Queues the same event again, due now: same webhook-id (receivers can dedupe), attempt history kept,
   * attempt budget reset. 409 while an attempt is in flight.
   */
  @Post('deliveries/:id/redeliver')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiAcceptedResponse({ type: WebhookDeliveryResponse, description: 'Queued again' })
  @ApiDeliveryIdParam()
  @ApiErrorResponses(400, 401, 404, 409, 429, 503)
  async redeliverWebhookDelivery(@Param('id', deliveryIdPipe) id: string): Promise<WebhookDeliveryResponse> {
    return toWebhookDeliveryResponse(await this.webhooks.redeliver(id));
  }
}
