import type { MessageCategory } from '../../common/message-category';
import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Template } from './template.entity';

/**
 * A proposed version of a template: previewed and test-sent, never used by callers. Edited in
 * place until it is published (a new version, and the draft is gone) or discarded.
 */
@Entity('template_drafts')
export class TemplateDraft {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'template_id' })
  templateId!: string;

  @ManyToOne(() => Template, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'template_id' })
  template?: Template;

  /** The current version when the draft was made or last saved: publish refuses if it moved. */
  @Column('integer', { name: 'based_on_version' })
  basedOnVersion!: number;

  @Column('text')
  body!: string;

  @Column('text', { array: true })
  variables!: string[];

  @Column('text', { name: 'sender_id', nullable: true })
  senderId!: string | null;

  @Column('text', { nullable: true })
  description!: string | null;

  @Column('text')
  category!: MessageCategory;

  @Column('boolean', { name: 'smart_encoding', default: false })
  smartEncoding!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
