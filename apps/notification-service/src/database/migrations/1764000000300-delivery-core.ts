import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery core: one owner of the message lifecycle, and crash recovery in seconds.
 *
 * - `message_events.status_change` is set by the lifecycle repository on every row that records
 *   a new status, so the callback trigger needs no list of statuses of its own: the statuses and
 *   their moves are defined once, in `delivery-status/message-status.ts`. The error a callback
 *   carries comes from the event row, which the repository writes with it.
 * - `worker_leases` holds one row per live sending process, renewed by its heartbeat; a claim
 *   records its owner's lease, so the claims of a process that died are released as soon as its
 *   lease lapses instead of after the claim timeout.
 */
export class DeliveryCore1764000000300 implements MigrationInterface {
  name = 'DeliveryCore1764000000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE message_events ADD COLUMN status_change boolean NOT NULL DEFAULT false`,
    );
    // History: a status row is one whose type is the status it recorded; intake's first rows
    // ('accepted', 'scheduled') were never changes.
    await q.query(
      `UPDATE message_events SET status_change = true WHERE type = status AND type <> 'scheduled'`,
    );

    await q.query(`
      CREATE TABLE worker_leases (
        id uuid PRIMARY KEY,
        host text NOT NULL,
        pid integer NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`ALTER TABLE messages ADD COLUMN claim_owner uuid`);
    // The reaper's question, "which claims belong to no live lease?", reads only claimed rows.
    await q.query(
      `CREATE INDEX messages_claimed_idx ON messages (claim_owner, claimed_at) WHERE claimed_at IS NOT NULL`,
    );

    await q.query(`
      CREATE OR REPLACE FUNCTION create_status_callback() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        m record;
      BEGIN
        SELECT msg.id, msg.notification_id, msg.recipient, n.callback_url, n.reference
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
            'event', 'message.' || NEW.status,
            'notification_id', m.notification_id,
            'message_id', m.id,
            'reference', m.reference,
            'to', m.recipient,
            'status', NEW.status,
            'error', NEW.details -> 'error',
            -- Spelled out rather than cast: the session's TimeZone must not change the payload.
            'occurred_at', to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
          ),
          'pending'
        )
        ON CONFLICT (event_id) DO NOTHING;
        RETURN NULL;
      END
      $$`);
    await q.query(`DROP TRIGGER message_events_status_callback ON message_events`);
    await q.query(`
      CREATE TRIGGER message_events_status_callback
        AFTER INSERT ON message_events
        FOR EACH ROW
        WHEN (NEW.status_change)
        EXECUTE FUNCTION create_status_callback()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER message_events_status_callback ON message_events`);
    await q.query(`
      CREATE OR REPLACE FUNCTION create_status_callback() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        m record;
      BEGIN
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
        VALUES (m.notification_id, m.id, NEW.id, m.callback_url,
          jsonb_build_object(
            'event', 'message.' || NEW.type, 'notification_id', m.notification_id,
            'message_id', m.id, 'reference', m.reference, 'to', m.recipient, 'status', NEW.type,
            'error', CASE WHEN NEW.type IN ('failed', 'expired') AND m.error_code IS NOT NULL
              THEN jsonb_build_object('code', m.error_code,
                                      'message', COALESCE(m.error_message, m.error_code)) END,
            'occurred_at', to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
          'pending')
        ON CONFLICT (event_id) DO NOTHING;
        RETURN NULL;
      END
      $$`);
    await q.query(`
      CREATE TRIGGER message_events_status_callback
        AFTER INSERT ON message_events
        FOR EACH ROW
        WHEN (NEW.type IN ('pending', 'queued', 'sent', 'delivered', 'failed', 'expired', 'canceled'))
        EXECUTE FUNCTION create_status_callback()`);
    await q.query(`DROP INDEX messages_claimed_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN claim_owner`);
    await q.query(`DROP TABLE worker_leases`);
    await q.query(`ALTER TABLE message_events DROP COLUMN status_change`);
  }
}
