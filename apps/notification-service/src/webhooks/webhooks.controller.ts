import { Controller, Headers, HttpCode, Post, type RawBodyRequest, Req } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { PROVIDER_WEBHOOK_PATH } from '../config/app-config';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@Public()
@Controller()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /**
   * The provider's status events; authenticated by X-SMSProvider-Signature, not a bearer key.
   * The body arrives unparsed (see bootstrap): nothing unsigned is parsed.
   */
  @Post(PROVIDER_WEBHOOK_PATH)
  @HttpCode(200)
  @ApiExcludeEndpoint()
  receive(
    @Req() request: RawBodyRequest<FastifyRequest>,
    @Headers('x-smsprovider-signature') signature: unknown,
  ): Promise<{ received: true; outcome: string }> {
    return this.webhooks.receive(request.rawBody, signature);
  }
}
