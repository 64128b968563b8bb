import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { WebhookEventType } from '@app/sms-provider';

export interface WebhookSubscription {
  readonly id: string;
  readonly accountKey: string;
  readonly url: string;
  events: WebhookEventType[];
  readonly createdAt: number;
  updatedAt: number;
}

/** Registered webhook URLs, per account and unique by URL within an account. */
@Injectable()
export class WebhookSubscriptionsService {
  private readonly byAccount = new Map<string, Map<string, WebhookSubscription>>();

  /** Registering a URL again replaces its events and keeps its id: the call is idempotent. */
  register(
    accountKey: string,
    url: string,
    events: WebhookEventType[],
    now: number,
  ): { subscription: WebhookSubscription; created: boolean } {
    let subscriptions = this.byAccount.get(accountKey);
    if (!subscriptions) {
      subscriptions = new Map();
      this.byAccount.set(accountKey, subscriptions);
    }
    const existing = subscriptions.get(url);
    if (existing) {
      existing.events = events;
      existing.updatedAt = now;
      return { subscription: existing, created: false };
    }
    const subscription: WebhookSubscription = {
      id: `wh_${randomBytes(8).toString('hex')}`,
      accountKey,
      url,
      events,
      createdAt: now,
      updatedAt: now,
    };
    subscriptions.set(url, subscription);
    return { subscription, created: true };
  }

  urlsFor(accountKey: string, event: WebhookEventType): string[] {
    const subscriptions = this.byAccount.get(accountKey);
    if (!subscriptions) return [];
    return [...subscriptions.values()].filter((s) => s.events.includes(event)).map((s) => s.url);
  }

  all(): WebhookSubscription[] {
    return [...this.byAccount.values()].flatMap((subscriptions) => [...subscriptions.values()]);
  }

  clear(): void {
    this.byAccount.clear();
  }
}
