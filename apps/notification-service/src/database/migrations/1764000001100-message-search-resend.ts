import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finding and resending messages.
 *
 * - `recipient` is stored in strict E.164 (intake refuses anything else), so it is already the
 *   normalised form a search by number compares with; the index makes that an exact index match,
 *   newest first as the search pages.
 * - `resend_of` links a resent message to the failed or expired one it replaces. It is unique:
 *   a message is resent at most once, which is what makes a repeated resend request (a double
 *   click, a retried bulk call) harmless; to try again, resend the resend.
 */
export class MessageSearchResend1764000001100 implements MigrationInterface {
  name = 'MessageSearchResend1764000001100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX messages_recipient_idx ON messages (recipient, submitted_at DESC, id DESC)`,
    );
    await q.query(`ALTER TABLE messages ADD COLUMN resend_of uuid REFERENCES messages(id)`);
    await q.query(
      `CREATE UNIQUE INDEX messages_resend_of_idx ON messages (resend_of) WHERE resend_of IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX messages_resend_of_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN resend_of`);
    await q.query(`DROP INDEX messages_recipient_idx`);
  }
}
