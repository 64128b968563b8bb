import { DEFAULT_CATEGORY, type MessageCategory } from '../../common/message-category';
import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Template } from './template.entity';

/** One immutable version of a template: editing a template adds a row, never changes one. */
@Entity('template_versions')
export class TemplateVersion {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'template_id' })
  templateId!: string;

  @ManyToOne(() => Template, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'template_id' })
  template?: Template;

  @Column('integer')
  version!: number;

  @Column('text')
  body!: string;

  @Column('text', { array: true })
  variables!: string[];

  @Column('text', { name: 'sender_id', nullable: true })
  senderId!: string | null;

  @Column('text', { nullable: true })
  description!: string | null;

  /** Frozen on every message rendered from this version (recipient-protection/). */
  @Column('text', { default: DEFAULT_CATEGORY })
  category!: MessageCategory;

  /** Look-alikes (’ “ – …) rewritten to GSM-7 when rendered (smart-encoding.ts); frozen too. */
  @Column('boolean', { name: 'smart_encoding', default: false })
  smartEncoding!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
