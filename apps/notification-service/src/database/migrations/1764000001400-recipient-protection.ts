import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recipient protection (issue #19):
 * - a category on each template version, frozen on each message like the version itself;
 * - the recipient's time zone on each message, so the send path can keep it out of quiet hours
 *   without a lookup;
 * - the company-wide suppression list. A removed entry is kept (who removed it, when, why): an
 *   opt-out is a promise made to a person, and undoing one must be traceable.
 *
 * Adding columns with constant defaults rewrites no rows on PostgreSQL 11+.
 */
export class RecipientProtection1764000001400 implements MigrationInterface {
  name = 'RecipientProtection1764000001400';

  async up(q: QueryRunner): Promise<void> {
    const category = `text NOT NULL DEFAULT 'transactional'
      CHECK (category IN ('otp', 'transactional', 'marketing'))`;
    await q.query(`ALTER TABLE template_versions ADD COLUMN category ${category}`);
    await q.query(`ALTER TABLE messages ADD COLUMN category ${category}`);
    await q.query(`ALTER TABLE messages ADD COLUMN timezone text`);
    await q.query(`
      CREATE TABLE suppressions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        recipient text NOT NULL,
        scope text NOT NULL CHECK (scope IN ('marketing', 'all')),
        reason text,
        source text,
        created_by_key text,
        created_by_team text,
        created_at timestamptz NOT NULL DEFAULT now(),
        removed_at timestamptz,
        removed_by_key text,
        removed_by_team text,
        removal_reason text
      )`);
    // One live entry per number and scope; the intake and the claim look numbers up through it.
    await q.query(
      `CREATE UNIQUE INDEX suppressions_active_unique ON suppressions (recipient, scope)
       WHERE removed_at IS NULL`,
    );
    await q.query(`CREATE INDEX suppressions_created_idx ON suppressions (created_at, id)`);
    // A number's history (removed entries too), newest first: the console's lookup.
    await q.query(
      `CREATE INDEX suppressions_recipient_history_idx ON suppressions (recipient, created_at DESC, id DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE suppressions`);
    await q.query(`ALTER TABLE messages DROP COLUMN timezone`);
    await q.query(`ALTER TABLE messages DROP COLUMN category`);
    await q.query(`ALTER TABLE template_versions DROP COLUMN category`);
  }
}
