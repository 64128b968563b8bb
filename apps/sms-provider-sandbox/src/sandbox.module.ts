import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsService } from './accounts/accounts.service';
import { ApiKeyGuard } from './accounts/api-key.guard';
import { RateLimitGuard } from './accounts/rate-limit.guard';
import { RateLimiterService } from './accounts/rate-limiter.service';
import { AdminController } from './admin/admin.controller';
import { AdminService } from './admin/admin.service';
import { Clock } from './common/clock';
import { SandboxExceptionFilter } from './common/sandbox-exception.filter';
import { SandboxLogger } from './common/sandbox-logger';
import { TimerService } from './common/timer.service';
import { SANDBOX_CONFIG, type SandboxConfig } from './config';
import { FaultInjectionGuard } from './faults/fault-injection.guard';
import { FaultsService } from './faults/faults.service';
import { MessageLifecycleService } from './messages/message-lifecycle.service';
import { MessageStore } from './messages/message.store';
import { MessagesController } from './messages/messages.controller';
import { MessagesService } from './messages/messages.service';
import { RequestLogService } from './request-log/request-log.service';
import { WebhookDeliveryLogService } from './webhooks/webhook-delivery-log.service';
import { WebhookDispatcherService } from './webhooks/webhook-dispatcher.service';
import { WebhookSubscriptionsService } from './webhooks/webhook-subscriptions.service';
import { WebhooksController } from './webhooks/webhooks.controller';

/**
 * One module for the whole sandbox: the feature folders share the auth/rate-limit guards and the
 * in-memory state, and splitting them into Nest modules would only add export lists.
 */
@Module({})
export class SandboxModule {
  static forRoot(config: SandboxConfig): DynamicModule {
    return {
      module: SandboxModule,
      controllers: [AccountsController, MessagesController, WebhooksController, AdminController],
      providers: [
        { provide: SANDBOX_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: SandboxExceptionFilter },
        Clock,
        SandboxLogger,
        TimerService,
        AccountsService,
        RateLimiterService,
        ApiKeyGuard,
        RateLimitGuard,
        FaultsService,
        FaultInjectionGuard,
        RequestLogService,
        MessageStore,
        MessageLifecycleService,
        MessagesService,
        WebhookSubscriptionsService,
        WebhookDeliveryLogService,
        WebhookDispatcherService,
        AdminService,
      ],
    };
  }
}
