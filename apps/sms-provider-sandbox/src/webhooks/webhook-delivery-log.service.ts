import { Injectable } from '@nestjs/common';
import type { WebhookEventType } from '@app/sms-provider';

export interface WebhookAttempt {
  /** Same for every attempt at delivering one event to one URL. */
  delivery_id: string;
  message_id: string;
  /** The recipient the event is about: a batch's recipients share `message_id`. */
  to: string;
  event: WebhookEventType;
  url: string;
  attempt: number;
  /** ISO 8601 time the attempt started. */
  at: string;
  /** HTTP status of the receiver's answer; null when there was none (network error, timeout). */
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  /** Exactly the bytes sent and signed. */
  body: string;
  signature: string;
}

/** Every webhook attempt made, finished ones only, in completion order. */
@Injectable()
export class WebhookDeliveryLogService {
  private attempts: WebhookAttempt[] = [];
  private byMessage = new Map<string, WebhookAttempt[]>();

  record(attempt: WebhookAttempt): void {
    this.attempts.push(attempt);
    const forMessage = this.byMessage.get(attempt.message_id);
    if (forMessage) forMessage.push(attempt);
    else this.byMessage.set(attempt.message_id, [attempt]);
  }

  all(): WebhookAttempt[] {
    return [...this.attempts];
  }

  /** A send's attempts; with `to`, only those about that recipient. */
  forMessage(messageId: string, to?: string): WebhookAttempt[] {
    const attempts = this.byMessage.get(messageId) ?? [];
    return to === undefined ? [...attempts] : attempts.filter((a) => a.to === to);
  }

  clear(): void {
    this.attempts = [];
    this.byMessage = new Map();
  }
}
