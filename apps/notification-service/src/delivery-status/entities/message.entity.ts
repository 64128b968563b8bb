import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { MessageStatus } from '../message-status';

/** One recipient of a notification: the unit that is queued, throttled, sent and tracked. */
@Entity('messages')
export class Message {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'notification_id' })
  notificationId!: string;

  @Column('text')
  recipient!: string;

  /** Rendered at acceptance: later template edits never change it. */
  @Column('text')
  body!: string;

  @Column('text', { name: 'sender_id', nullable: true })
  senderId!: string | null;

  @Column('integer')
  characters!: number;

  @Column('text')
  encoding!: string;

  @Column('integer')
  segments!: number;

  @Column('text')
  status!: MessageStatus;

  /** Bull job priority: 1 high, 2 normal, 3 low. */
  @Column('smallint')
  priority!: number;

  @Column('timestamptz', { name: 'scheduled_at', nullable: true })
  scheduledAt!: Date | null;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  /** When the next send attempt is due (scheduled time, or after a retry backoff). */
  @Column('timestamptz', { name: 'next_attempt_at', nullable: true })
  nextAttemptAt!: Date | null;

  /** Bumped each time a new job is planned, so every planned job has its own deterministic id. */
  @Column('integer', { name: 'dispatch_seq', default: 0 })
  dispatchSeq!: number;

  @Column('integer', { default: 0 })
  attempts!: number;

  @Column('timestamptz', { name: 'claimed_at', nullable: true })
  claimedAt!: Date | null;

  @Column('uuid', { name: 'claim_token', nullable: true })
  claimToken!: string | null;

  /** The lease (worker_leases) of the process holding the claim: dead owner, released claim. */
  @Column('uuid', { name: 'claim_owner', nullable: true })
  claimOwner!: string | null;

  @Column('text', { name: 'provider_message_id', nullable: true, unique: true })
  providerMessageId!: string | null;

  @Column('integer', { name: 'credits_used', nullable: true })
  creditsUsed!: number | null;

  @Column('integer', { name: 'credits_remaining', nullable: true })
  creditsRemaining!: number | null;

  @Column('text', { name: 'error_code', nullable: true })
  errorCode!: string | null;

  @Column('text', { name: 'error_message', nullable: true })
  errorMessage!: string | null;

  @Column('timestamptz', { name: 'submitted_at', default: () => 'now()' })
  submittedAt!: Date;

  @Column('timestamptz', { name: 'queued_at', nullable: true })
  queuedAt!: Date | null;

  @Column('timestamptz', { name: 'sent_at', nullable: true })
  sentAt!: Date | null;

  @Column('timestamptz', { name: 'delivered_at', nullable: true })
  deliveredAt!: Date | null;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt!: Date | null;

  @Column('timestamptz', { name: 'last_checked_at', nullable: true })
  lastCheckedAt!: Date | null;

  /** The failed or expired message this one was sent again in place of. */
  @Column('uuid', { name: 'resend_of', nullable: true })
  resendOf!: string | null;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt!: Date;
}
