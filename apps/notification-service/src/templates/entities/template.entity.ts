import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * A key is unique within its owner's namespace: the shared one (`owner_team` null) or one team's
 * (migration 1764000001330-template-namespaces).
 */
@Entity('templates')
@Index('templates_shared_key_unique', ['key'], { unique: true, where: 'owner_team IS NULL' })
@Index('templates_team_key_unique', ['ownerTeam', 'key'], {
  unique: true,
  where: 'owner_team IS NOT NULL',
})
export class Template {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  key!: string;

  /** The team whose namespace holds the template, which alone (with admins) may use it; null: shared. */
  @Column('text', { name: 'owner_team', nullable: true })
  ownerTeam!: string | null;

  @Column('integer', { name: 'current_version' })
  currentVersion!: number;

  @Column('timestamptz', { name: 'archived_at', nullable: true })
  archivedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
