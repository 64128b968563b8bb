import type {
  ProviderMessage,
  ProviderMessageStatus,
  ProviderRecipientStatus,
} from '@app/sms-provider';
import { isoTime } from '../common/iso-time';
import type { SandboxMessage } from './message';

/** GET /v1/messages/:id. `scheduled_at` is a sandbox extension, null unless one was requested. */
export type MessageResponse = ProviderMessage & {
  recipients: ProviderRecipientStatus[];
  scheduled_at: string | null;
};

/**
 * A batch's status is its least advanced recipient's: queued while any is queued, sent while any
 * is sent; once every one is final, delivered only if all were, else failed if any failed, else
 * expired. Readers wanting more look at `recipients`.
 */
export function aggregateStatus(statuses: readonly ProviderMessageStatus[]): ProviderMessageStatus {
  for (const status of ['queued', 'sent', 'failed', 'expired'] as const) {
    if (statuses.includes(status)) return status;
  }
  return 'delivered';
}

function toRecipientStatus(message: SandboxMessage): ProviderRecipientStatus {
  return {
    to: message.to,
    status: message.status,
    sent_at: isoTime(message.sentAt),
    delivered_at: isoTime(message.deliveredAt),
    error: message.error,
  };
}

/** `messages`: one send's, in recipient order (at least one). */
export function toMessageResponse(messages: readonly SandboxMessage[]): MessageResponse {
  const [first] = messages;
  const recipients = messages.map(toRecipientStatus);
  const scheduled_at = isoTime(first.scheduledAt);
  if (first.batch) {
    const status = aggregateStatus(messages.map((m) => m.status));
    return {
      message_id: first.id,
      from: first.from,
      message: first.text,
      status,
      recipients,
      scheduled_at,
    };
  }
  const { to, ...state } = recipients[0];
  return {
    message_id: first.id,
    to,
    from: first.from,
    message: first.text,
    ...state,
    recipients,
    scheduled_at,
  };
}
