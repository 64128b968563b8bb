import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type Priority = 'high' | 'normal' | 'low';

@Entity('notifications')
export class Notification {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  team!: string;

  @Column('uuid', { name: 'api_key_id', nullable: true })
  apiKeyId!: string | null;

  @Column('text', { name: 'template_key' })
  templateKey!: string;

  @Column('integer', { name: 'template_version' })
  templateVersion!: number;

  @Column('text', { name: 'sender_id', nullable: true })
  senderId!: string | null;

  @Column('text')
  priority!: Priority;

  @Column('timestamptz', { name: 'scheduled_at', nullable: true })
  scheduledAt!: Date | null;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  @Column('text', { name: 'callback_url', nullable: true })
  callbackUrl!: string | null;

  @Column('text', { nullable: true })
  reference!: string | null;

  @Column('integer', { name: 'recipient_count' })
  recipientCount!: number;

  /** Sent from the templates API to try a version or a draft (a real send, marked as such). */
  @Column('boolean', { default: false })
  test!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
