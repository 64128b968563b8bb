import { Injectable } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service';
import type { Account } from '../accounts/account';
import { RateLimiterService } from '../accounts/rate-limiter.service';
import { isoTime } from '../common/iso-time';
import { TimerService } from '../common/timer.service';
import { FaultsService } from '../faults/faults.service';
import type { SandboxMessage } from '../messages/message';
import { MessageStore } from '../messages/message.store';
import { RequestLogService } from '../request-log/request-log.service';
import {
  WebhookDeliveryLogService,
  type WebhookAttempt,
} from '../webhooks/webhook-delivery-log.service';
import { WebhookDispatcherService } from '../webhooks/webhook-dispatcher.service';
import { WebhookSubscriptionsService } from '../webhooks/webhook-subscriptions.service';

/** Views and state changes behind /__admin: what a test needs to see and control. */
@Injectable()
export class AdminService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly limiter: RateLimiterService,
    private readonly timers: TimerService,
    private readonly faults: FaultsService,
    private readonly messages: MessageStore,
    private readonly requestLog: RequestLogService,
    private readonly deliveryLog: WebhookDeliveryLogService,
    private readonly dispatcher: WebhookDispatcherService,
    private readonly subscriptions: WebhookSubscriptionsService,
  ) {}

  /** Back to the state right after start-up: seeded accounts, configured faults, nothing else. */
  reset(): void {
    this.timers.cancelAll();
    this.dispatcher.abortInFlight();
    this.messages.clear();
    this.deliveryLog.clear();
    this.subscriptions.clear();
    this.requestLog.clear();
    this.limiter.reset();
    this.faults.reset();
    this.accounts.reset();
  }

  accountView(account: Account) {
    return { key: account.key, ...this.accounts.toWire(account) };
  }

  messageViews(filter: { key?: string }) {
    return this.messages
      .all()
      .filter((m) => filter.key === undefined || m.accountKey === filter.key)
      .map((m) => this.messageView(m));
  }

  webhookAttempts(filter: { messageId?: string }): WebhookAttempt[] {
    return filter.messageId === undefined
      ? this.deliveryLog.all()
      : this.deliveryLog.forMessage(filter.messageId);
  }

  subscriptionViews() {
    return this.subscriptions.all().map((s) => ({
      webhook_id: s.id,
      key: s.accountKey,
      url: s.url,
      events: s.events,
      created_at: isoTime(s.createdAt),
      updated_at: isoTime(s.updatedAt),
    }));
  }

  private messageView(message: SandboxMessage) {
    return {
      message_id: message.id,
      key: message.accountKey,
      to: message.to,
      from: message.from,
      message: message.text,
      encoding: message.encoding,
      segments: message.segments,
      outcome: message.outcome,
      status: message.status,
      callback_url: message.callbackUrl,
      created_at: isoTime(message.createdAt),
      scheduled_at: isoTime(message.scheduledAt),
      sent_at: isoTime(message.sentAt),
      delivered_at: isoTime(message.deliveredAt),
      finished_at: isoTime(message.finishedAt),
      error: message.error,
      webhook_attempts: this.deliveryLog.forMessage(message.id, message.to),
    };
  }
}
