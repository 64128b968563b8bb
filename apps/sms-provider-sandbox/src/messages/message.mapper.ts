import type { ProviderMessage } from '@app/sms-provider';
import { isoTime } from '../common/iso-time';
import type { SandboxMessage } from './message';

/** GET /v1/messages/:id. `scheduled_at` is a sandbox extension, null unless one was requested. */
export type MessageResponse = ProviderMessage & { scheduled_at: string | null };

export function toMessageResponse(message: SandboxMessage): MessageResponse {
  return {
    message_id: message.id,
    to: message.to,
    from: message.from,
    message: message.text,
    status: message.status,
    sent_at: isoTime(message.sentAt),
    delivered_at: isoTime(message.deliveredAt),
    error: message.error,
    scheduled_at: isoTime(message.scheduledAt),
  };
}
