import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type EventSource = 'api' | 'worker' | 'webhook' | 'poll' | 'sweeper' | 'callback';

/** One row of a message's timeline: every status change and every notable attempt. */
@Entity('message_events')
export class MessageEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('uuid', { name: 'message_id' })
  messageId!: string;

  @Column('text')
  type!: string;

  @Column('text', { nullable: true })
  status!: string | null;

  @Column('text')
  source!: EventSource;

  @Column('text', { name: 'dedupe_key', nullable: true })
  dedupeKey!: string | null;

  @Column('jsonb', { nullable: true })
  details!: Record<string, unknown> | null;

  @Column('timestamptz', { name: 'occurred_at', default: () => 'now()' })
  occurredAt!: Date;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;
}
