import {
  Controller,
  Headers,
  HttpCode,
  Param,
  Post,
  type RawBodyRequest,
  Req,
} from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { ACCOUNT_WEBHOOK_ROUTE, PROVIDER_WEBHOOK_PATH } from '../config/app-config';
import { WebhooksService } from './webhooks.service';
import { Operation } from '../common/openapi/operation.decorator';

/** The provider's event as both webhook routes take it. */
const WEBHOOK_EVENT = {
  description: "The provider's status event (docs/provider-api.md), verified before it is parsed",
  schema: {
    type: 'object' as const,
    required: ['event', 'message_id', 'status', 'timestamp'],
    properties: {
      event: { type: 'string', example: 'message.delivered' },
      message_id: {
        type: 'string',
        example: 'msg_01c80b8cf41ca9d1',
        description: 'The provider request; one id for every recipient of a batch',
      },
      to: {
        type: 'string',
        example: '+14155550100',
        description: 'The recipient the event is about (E.164)',
      },
      status: { type: 'string', example: 'delivered' },
      sent_at: { type: 'string', format: 'date-time', nullable: true },
      delivered_at: { type: 'string', format: 'date-time', nullable: true },
      error: {
        type: 'object',
        nullable: true,
        properties: { code: { type: 'string' }, message: { type: 'string' } },
      },
      timestamp: { type: 'integer', description: 'Unix seconds' },
    },
  },
};

const WEBHOOK_ACK = {
  description: 'Accepted (also for an event about an unknown or finished message)',
  schema: {
    type: 'object' as const,
    required: ['received', 'outcome'],
    properties: {
      received: { type: 'boolean', enum: [true] },
      outcome: { type: 'string', example: 'applied' },
    },
  },
};

@ApiTags('webhooks')
@Public()
@Controller()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /**
   * The provider's status events; authenticated by X-SMSProvider-Signature, not a bearer key.
   * The body arrives unparsed (see bootstrap): nothing unsigned is parsed.
   */
  @Operation({
    id: 'receiveProviderWebhook',
    summary: "Receiver of the SMS provider's signed status webhooks (the default account's)",
    errors: { 401: ['invalid_signature'] },
    example: { received: true, outcome: 'applied' },
  })
  @Post(PROVIDER_WEBHOOK_PATH)
  @HttpCode(200)
  @ApiHeader({
    name: 'X-SMSProvider-Signature',
    required: true,
    description:
      't=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body" with SMS_PROVIDER_WEBHOOK_SECRET>',
  })
  @ApiBody(WEBHOOK_EVENT)
  @ApiOkResponse(WEBHOOK_ACK)
  receive(
    @Req() request: RawBodyRequest<FastifyRequest>,
    @Headers('x-smsprovider-signature') signature: unknown,
  ): Promise<{ received: true; outcome: string }> {
    return this.webhooks.receive(request.rawBody, signature);
  }

  /** One account's events, verified with that account's secret (SMS_PROVIDER_ACCOUNTS). */
  @Operation({
    id: 'receiveAccountProviderWebhook',
    summary: "Receiver of one provider account's signed status webhooks",
    errors: { 401: ['invalid_signature'], 404: ['provider_account_not_found'] },
    example: { received: true, outcome: 'applied' },
  })
  @Post(ACCOUNT_WEBHOOK_ROUTE)
  @HttpCode(200)
  @ApiParam({ name: 'account', description: "The account's name in SMS_PROVIDER_ACCOUNTS" })
  @ApiHeader({
    name: 'X-SMSProvider-Signature',
    required: true,
    description:
      't=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body" with the webhook_secret of the account>',
  })
  @ApiBody(WEBHOOK_EVENT)
  @ApiOkResponse(WEBHOOK_ACK)
  receiveForAccount(
    @Req() request: RawBodyRequest<FastifyRequest>,
    @Headers('x-smsprovider-signature') signature: unknown,
    @Param('account') account: string,
  ): Promise<{ received: true; outcome: string }> {
    return this.webhooks.receive(request.rawBody, signature, account);
  }
}
