import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Several provider accounts (issue #21): each message records the account that took it, so its
 * status polls go to that account, and views and reports can say which account carried what.
 * Rows from before stay null, which reads as the default account: rewriting every finished row
 * of a large table would hold the migration for minutes.
 */
export class ProviderAccounts1764000001600 implements MigrationInterface {
  name = 'ProviderAccounts1764000001600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages ADD COLUMN provider_account text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages DROP COLUMN provider_account`);
  }
}
