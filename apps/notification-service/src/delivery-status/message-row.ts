import type { MessageCategory } from '../common/message-category';
import type { Message } from './message';
import type { MessageStatus } from './message-status';

/*
 * The one mapping of a `messages` row: the column list every statement returns and the function
 * that turns the row into a Message. A new column is added here (and in the migration) once.
 */

/** Every column of a message row, in the one order the statements below return them in. */
const COLUMNS = [
  'id',
  'notification_id',
  'recipient',
  'body',
  'sender_id',
  'characters',
  'encoding',
  'segments',
  'status',
  'priority',
  'scheduled_at',
  'expires_at',
  'next_attempt_at',
  'dispatch_seq',
  'attempts',
  'claimed_at',
  'claim_token',
  'claim_owner',
  'provider_message_id',
  'credits_used',
  'credits_remaining',
  'error_code',
  'error_message',
  'submitted_at',
  'queued_at',
  'sent_at',
  'delivered_at',
  'completed_at',
  'last_checked_at',
  'resend_of',
  'updated_at',
  'category',
  'timezone',
  'team',
  'provider_account',
] as const;
export const MESSAGE_COLUMNS = COLUMNS.join(', ');
/** The same list qualified for a statement that names the row `m`. */
export const M_COLUMNS = COLUMNS.map((c) => `m.${c}`).join(', ');
/** What the dispatcher needs to (re)enqueue a message's job. */
export const DISPATCH_COLUMNS = 'id, dispatch_seq, priority, next_attempt_at, team';

export interface DispatchRef {
  id: string;
  dispatchSeq: number;
  priority: number;
  nextAttemptAt: Date | null;
  /** Whose share of the send rate the message takes (null: a row from before teams were kept). */
  team: string | null;
}

export interface DispatchRow {
  id: string;
  dispatch_seq: number;
  priority: number;
  next_attempt_at: Date | null;
  team: string | null;
}

export interface MessageRow {
  id: string;
  notification_id: string;
  recipient: string;
  body: string;
  sender_id: string | null;
  characters: number;
  encoding: string;
  segments: number;
  status: MessageStatus;
  priority: number;
  scheduled_at: Date | null;
  expires_at: Date | null;
  next_attempt_at: Date | null;
  dispatch_seq: number;
  attempts: number;
  claimed_at: Date | null;
  claim_token: string | null;
  claim_owner: string | null;
  provider_message_id: string | null;
  credits_used: number | null;
  credits_remaining: number | null;
  error_code: string | null;
  error_message: string | null;
  submitted_at: Date;
  queued_at: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  completed_at: Date | null;
  last_checked_at: Date | null;
  resend_of: string | null;
  updated_at: Date;
  category: MessageCategory;
  timezone: string | null;
  team: string | null;
  provider_account: string | null;
}

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    notificationId: row.notification_id,
    recipient: row.recipient,
    body: row.body,
    senderId: row.sender_id,
    characters: row.characters,
    encoding: row.encoding,
    segments: row.segments,
    status: row.status,
    priority: row.priority,
    scheduledAt: row.scheduled_at,
    expiresAt: row.expires_at,
    nextAttemptAt: row.next_attempt_at,
    dispatchSeq: row.dispatch_seq,
    attempts: row.attempts,
    claimedAt: row.claimed_at,
    claimToken: row.claim_token,
    claimOwner: row.claim_owner,
    providerMessageId: row.provider_message_id,
    creditsUsed: row.credits_used,
    creditsRemaining: row.credits_remaining,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    submittedAt: row.submitted_at,
    queuedAt: row.queued_at,
    sentAt: row.sent_at,
    deliveredAt: row.delivered_at,
    completedAt: row.completed_at,
    lastCheckedAt: row.last_checked_at,
    resendOf: row.resend_of,
    updatedAt: row.updated_at,
    category: row.category,
    timezone: row.timezone,
    team: row.team,
    providerAccount: row.provider_account,
  };
}

export function toDispatchRef(row: DispatchRow): DispatchRef {
  return {
    id: row.id,
    dispatchSeq: row.dispatch_seq,
    priority: row.priority,
    nextAttemptAt: row.next_attempt_at,
    team: row.team,
  };
}
