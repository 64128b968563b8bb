import type { ProviderMessageStatus, SmsEncoding } from '@app/sms-provider';
import type { Outcome } from './outcomes';

export interface MessageError {
  code: string;
  message: string;
}

/**
 * One recipient's message as the sandbox keeps it (times are epoch ms). A send to an array keeps
 * one per recipient, all under the send's one `id`: `id` and `to` together name a recipient.
 */
export interface SandboxMessage {
  readonly id: string;
  /** The send's `to` was an array (answers and GET then take the batch form). */
  readonly batch: boolean;
  readonly accountKey: string;
  readonly to: string;
  readonly from: string;
  readonly text: string;
  readonly encoding: SmsEncoding;
  readonly segments: number;
  readonly callbackUrl: string | null;
  readonly outcome: Outcome;
  readonly createdAt: number;
  readonly scheduledAt: number | null;
  status: ProviderMessageStatus;
  sentAt: number | null;
  deliveredAt: number | null;
  /** When the message reached failed or expired. */
  finishedAt: number | null;
  error: MessageError | null;
}
