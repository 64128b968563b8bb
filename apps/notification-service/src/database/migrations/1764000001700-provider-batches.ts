import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Many recipients per provider request (issue #21): the provider answers an array `to` with one
 * message id for the whole request, so a provider id no longer names one message row but one row
 * per recipient. The unique key becomes (provider id, recipient), which still serves lookups by
 * provider id alone (its leading column); webhooks and polls name both.
 *
 * The batch index finds the unsent messages that would put the same request body on the wire:
 * keyed by a hash of the text (a text of 1,600 characters is too wide for a btree key), only over
 * rows still waiting for a worker, so its size follows the backlog, not the table.
 */
export class ProviderBatches1764000001700 implements MigrationInterface {
  name = 'ProviderBatches1764000001700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages DROP CONSTRAINT messages_provider_message_id_key`);
    await q.query(
      `CREATE UNIQUE INDEX messages_provider_message_recipient_key
       ON messages (provider_message_id, recipient) WHERE provider_message_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX messages_batch_idx ON messages (md5(body), next_attempt_at)
       WHERE claimed_at IS NULL AND status IN ('scheduled', 'pending')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX messages_batch_idx`);
    await q.query(`DROP INDEX messages_provider_message_recipient_key`);
    await q.query(
      `ALTER TABLE messages ADD CONSTRAINT messages_provider_message_id_key UNIQUE (provider_message_id)`,
    );
  }
}
