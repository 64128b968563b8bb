import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A callback that failed for good can be sent again on request (POST
 * /v1/notifications/{id}/callbacks/redeliver), with a new round of attempts. `attempts` keeps
 * counting every request ever made, so job ids (`<id>.<attempts>`) stay unique across rounds;
 * `attempts_base` is where the current round started.
 */
export class CallbackRedelivery1764000000200 implements MigrationInterface {
  name = 'CallbackRedelivery1764000000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE callback_deliveries
         ADD COLUMN attempts_base integer NOT NULL DEFAULT 0,
         ADD COLUMN redelivered_at timestamptz,
         ADD CONSTRAINT callback_deliveries_attempts_base_check CHECK (attempts_base <= attempts)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE callback_deliveries
         DROP CONSTRAINT callback_deliveries_attempts_base_check,
         DROP COLUMN redelivered_at,
         DROP COLUMN attempts_base`,
    );
  }
}
