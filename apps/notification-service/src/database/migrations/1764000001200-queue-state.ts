import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /v1/queue` reads the send rate (hand-overs in the last seconds) and the account's credits
 * (from the latest hand-over) off `queued_at`; this keeps both an index range scan however many
 * messages the table holds.
 */
export class QueueState1764000001200 implements MigrationInterface {
  name = 'QueueState1764000001200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX messages_queued_at_idx ON messages (queued_at) WHERE queued_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX messages_queued_at_idx`);
  }
}
