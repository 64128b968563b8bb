import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Templates belong to whoever made them: `owner_team` is the team whose key created the template,
 * or NULL for a shared one (made with an admin key). Every template that exists before this
 * migration was made by ops for everyone, so all of them become shared and callers keep working.
 */
export class TemplateOwner1764000000900 implements MigrationInterface {
  name = 'TemplateOwner1764000000900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE templates ADD COLUMN owner_team text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE templates DROP COLUMN owner_team`);
  }
}
