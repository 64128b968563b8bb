import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Templates for the people who write them (issue #22):
 * - `smart_encoding` on each version, frozen like its category: whether rendering rewrites
 *   look-alikes (’ “ – …) to GSM-7;
 * - drafts: proposed versions that callers never see. A draft is edited in place (it is not
 *   history); publishing it adds a version, as PUT does, and deletes the draft;
 * - `test` on notifications: sent from the templates API to check a version or a draft, through
 *   the same intake as any other.
 *
 * The added columns have constant defaults, so no rows are rewritten.
 */
export class TemplateDrafts1764000001800 implements MigrationInterface {
  name = 'TemplateDrafts1764000001800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE template_versions ADD COLUMN smart_encoding boolean NOT NULL DEFAULT false`,
    );
    await q.query(`
      CREATE TABLE template_drafts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template_id uuid NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
        based_on_version integer NOT NULL,
        body text NOT NULL,
        variables text[] NOT NULL,
        sender_id text,
        description text,
        category text NOT NULL CHECK (category IN ('otp', 'transactional', 'marketing')),
        smart_encoding boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX template_drafts_template ON template_drafts (template_id, created_at)`,
    );
    await q.query(`ALTER TABLE notifications ADD COLUMN test boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications DROP COLUMN test`);
    await q.query(`DROP TABLE template_drafts`);
    await q.query(`ALTER TABLE template_versions DROP COLUMN smart_encoding`);
  }
}
