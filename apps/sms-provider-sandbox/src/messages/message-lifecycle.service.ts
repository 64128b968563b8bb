import { Inject, Injectable } from '@nestjs/common';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config';
import { Clock } from '../common/clock';
import { TimerService } from '../common/timer.service';
import { WebhookDispatcherService } from '../webhooks/webhook-dispatcher.service';
import type { SandboxMessage } from './message';

/**
 * Moves a message queued → sent → delivered | failed | expired on timers, announcing each change
 * by webhook. The outcome was fixed at send time from the recipient's last digits.
 */
@Injectable()
export class MessageLifecycleService {
  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly clock: Clock,
    private readonly timers: TimerService,
    private readonly webhooks: WebhookDispatcherService,
  ) {}

  start(message: SandboxMessage): void {
    const now = this.clock.now();
    const sendAt =
      message.scheduledAt !== null && message.scheduledAt > now
        ? message.scheduledAt
        : now + this.config.sentDelayMs;
    this.timers.at(sendAt, () => this.markSent(message));
  }

  private markSent(message: SandboxMessage): void {
    message.status = 'sent';
    message.sentAt = this.clock.now();
    this.announce(message);
    if (message.outcome === 'stuck_sent') return;
    this.timers.after(this.config.deliveredDelayMs, () => this.finish(message));
  }

  private finish(message: SandboxMessage): void {
    const now = this.clock.now();
    switch (message.outcome) {
      case 'failed':
        message.status = 'failed';
        message.finishedAt = now;
        message.error = {
          code: 'undeliverable',
          message: 'The operator reported the handset as unreachable',
        };
        break;
      case 'expired':
        message.status = 'expired';
        message.finishedAt = now;
        message.error = {
          code: 'expired',
          message: 'The message expired before it could be delivered',
        };
        break;
      default:
        message.status = 'delivered';
        message.deliveredAt = now;
    }
    this.announce(message);
  }

  private announce(message: SandboxMessage): void {
    if (message.outcome === 'delivered_silently') return;
    this.webhooks.messageChanged(message);
  }
}
