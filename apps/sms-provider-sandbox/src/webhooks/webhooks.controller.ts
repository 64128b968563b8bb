import { Body, Controller, HttpStatus, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { RegisterWebhookResponse } from '@app/sms-provider';
import type { Account } from '../accounts/account';
import { CurrentAccount } from '../accounts/current-account.decorator';
import { Clock } from '../common/clock';
import { isoTime } from '../common/iso-time';
import { ProviderEndpoint } from '../common/provider-endpoint.decorator';
import { parseRegisterWebhook } from './register-webhook.dto';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';

@Controller('v1/webhooks')
@ProviderEndpoint()
export class WebhooksController {
  constructor(
    private readonly subscriptions: WebhookSubscriptionsService,
    private readonly clock: Clock,
  ) {}

  /** 201 when the URL is new, 200 when it was already registered (its events are replaced). */
  @Post()
  register(
    @CurrentAccount() account: Account,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): RegisterWebhookResponse {
    const { url, events } = parseRegisterWebhook(body);
    const { subscription, created } = this.subscriptions.register(
      account.key,
      url,
      events,
      this.clock.now(),
    );
    void reply.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return {
      success: true,
      webhook_id: subscription.id,
      url: subscription.url,
      events: subscription.events,
      created_at: isoTime(subscription.createdAt),
    };
  }
}
