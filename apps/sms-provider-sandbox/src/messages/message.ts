import type { ProviderMessageStatus, SmsEncoding } from '@app/sms-provider';
import type { Outcome } from './outcomes';

export interface MessageError {
  code: string;
  message: string;
}

/** One recipient's message as the sandbox keeps it (times are epoch ms). */
export interface SandboxMessage {
  readonly id: string;
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
