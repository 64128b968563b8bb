import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Status callbacks are created by the database itself: every status change of a message is
 * written as a `message_events` row by one of many SQL statements, and a trigger on that table is
 * the one place that sees them all. The callback row commits (or rolls back) with the status
 * change, so a callback can be neither lost nor invented.
 */
export class CallbackTrigger1764000000100 implements MigrationInterface {
  name = 'CallbackTrigger1764000000100';

  async up(q: QueryRunner): Promise<void> {
    // When the next attempt is due: the backoff lives in the database so that it survives a Redis
    // flush or a restart, and the dispatcher only looks at rows that are due.
    await q.query(
      `ALTER TABLE callback_deliveries ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now()`,
    );
    await q.query(
      `CREATE INDEX callback_deliveries_due_idx ON callback_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    // "Is there an older pending callback for this message?" keeps each message's callbacks in order.
    await q.query(
      `CREATE INDEX callback_deliveries_message_pending_idx ON callback_deliveries (message_id, event_id) WHERE status = 'pending'`,
    );

    await q.query(`
      CREATE FUNCTION create_status_callback() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        m record;
      BEGIN
        -- Row-level AFTER triggers run once the whole statement is done, so the message row read
        -- here already carries the error written by the same statement.
        SELECT msg.id, msg.notification_id, msg.recipient, msg.error_code, msg.error_message,
               n.callback_url, n.reference
          INTO m
          FROM messages msg
          JOIN notifications n ON n.id = msg.notification_id
         WHERE msg.id = NEW.message_id;
        IF NOT FOUND OR m.callback_url IS NULL THEN
          RETURN NULL;
        END IF;

        INSERT INTO callback_deliveries (notification_id, message_id, event_id, url, payload, status)
        VALUES (
          m.notification_id,
          m.id,
          NEW.id,
          m.callback_url,
          jsonb_build_object(
            'event', 'message.' || NEW.type,
            'notification_id', m.notification_id,
            'message_id', m.id,
            'reference', m.reference,
            'to', m.recipient,
            'status', NEW.type,
            'error', CASE
              WHEN NEW.type IN ('failed', 'expired') AND m.error_code IS NOT NULL
                THEN jsonb_build_object('code', m.error_code,
                                        'message', COALESCE(m.error_message, m.error_code))
              END,
            -- Spelled out rather than cast: the session's TimeZone must not change the payload.
            'occurred_at', to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
          ),
          'pending'
        )
        ON CONFLICT (event_id) DO NOTHING;
        RETURN NULL;
      END
      $$`);

    // Only rows whose type is a new status are status changes; attempts, retries and the like are not.
    await q.query(`
      CREATE TRIGGER message_events_status_callback
        AFTER INSERT ON message_events
        FOR EACH ROW
        WHEN (NEW.type IN ('pending', 'queued', 'sent', 'delivered', 'failed', 'expired', 'canceled'))
        EXECUTE FUNCTION create_status_callback()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS message_events_status_callback ON message_events`);
    await q.query(`DROP FUNCTION IF EXISTS create_status_callback()`);
    await q.query(`DROP INDEX IF EXISTS callback_deliveries_message_pending_idx`);
    await q.query(`DROP INDEX IF EXISTS callback_deliveries_due_idx`);
    await q.query(`ALTER TABLE callback_deliveries DROP COLUMN IF EXISTS next_attempt_at`);
  }
}
