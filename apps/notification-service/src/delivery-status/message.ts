import type { MessageCategory } from '../common/message-category';
import type { MessageStatus } from './message-status';

/*
 * The message row and its timeline rows as the service reads them. Raw SQL is the one way to the
 * message tables (the lifecycle writes, message-queries reads, message-row.ts maps): these are
 * plain types, not TypeORM entities, so no second mapping of the same columns exists.
 */

/** One recipient of a notification: the unit that is queued, throttled, sent and tracked. */
export interface Message {
  id: string;
  notificationId: string;
  recipient: string;

  /** Rendered at acceptance: later template edits never change it. */
  body: string;
  senderId: string | null;
  characters: number;
  encoding: string;
  segments: number;
  status: MessageStatus;

  /** Bull job priority: 1 high, 2 normal, 3 low. */
  priority: number;
  scheduledAt: Date | null;
  expiresAt: Date | null;

  /** When the next send attempt is due (scheduled time, or after a retry backoff). */
  nextAttemptAt: Date | null;

  /** Bumped each time a new job is planned, so every planned job has its own deterministic id. */
  dispatchSeq: number;
  attempts: number;
  claimedAt: Date | null;
  claimToken: string | null;

  /** The lease (worker_leases) of the process holding the claim: dead owner, released claim. */
  claimOwner: string | null;
  providerMessageId: string | null;
  creditsUsed: number | null;
  creditsRemaining: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  submittedAt: Date;
  queuedAt: Date | null;
  sentAt: Date | null;
  deliveredAt: Date | null;
  completedAt: Date | null;
  lastCheckedAt: Date | null;

  /** The failed or expired message this one was sent again in place of. */
  resendOf: string | null;
  updatedAt: Date;

  /** Frozen from the template version: decides suppression, cap, quiet hours and validity. */
  category: MessageCategory;

  /** The recipient's IANA zone, for quiet hours; null when the category has none. */
  timezone: string | null;

  /** The sending team (its notification's), whose share of the send rate the message takes. */
  team: string | null;

  /** The provider account that took it; null until then (and on rows from before accounts). */
  providerAccount: string | null;
}

/** Who recorded a timeline row. */
export type EventSource = 'api' | 'worker' | 'webhook' | 'poll' | 'sweeper' | 'callback';
