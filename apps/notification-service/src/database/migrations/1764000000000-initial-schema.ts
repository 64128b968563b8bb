import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);

    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        team text NOT NULL,
        scopes text[] NOT NULL,
        key_hash text NOT NULL UNIQUE,
        key_prefix text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);

    await q.query(`
      CREATE TABLE templates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        key text NOT NULL UNIQUE,
        current_version integer NOT NULL,
        archived_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE template_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template_id uuid NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
        version integer NOT NULL,
        body text NOT NULL,
        variables text[] NOT NULL,
        sender_id text,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (template_id, version)
      )`);

    await q.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team text NOT NULL,
        api_key_id uuid,
        template_key text NOT NULL,
        template_version integer NOT NULL,
        sender_id text,
        priority text NOT NULL,
        scheduled_at timestamptz,
        expires_at timestamptz,
        callback_url text,
        reference text,
        recipient_count integer NOT NULL,
        -- Millisecond precision: the list cursor round-trips it through JavaScript dates exactly.
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX notifications_team_created_idx ON notifications (team, created_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX notifications_created_idx ON notifications (created_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX notifications_reference_idx ON notifications (reference) WHERE reference IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX notifications_template_idx ON notifications (template_key, created_at)`,
    );

    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        notification_id uuid NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
        recipient text NOT NULL,
        body text NOT NULL,
        sender_id text,
        characters integer NOT NULL,
        encoding text NOT NULL,
        segments integer NOT NULL,
        status text NOT NULL,
        priority smallint NOT NULL,
        scheduled_at timestamptz,
        expires_at timestamptz,
        next_attempt_at timestamptz,
        dispatch_seq integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        claimed_at timestamptz,
        claim_token uuid,
        provider_message_id text UNIQUE,
        credits_used integer,
        credits_remaining integer,
        error_code text,
        error_message text,
        submitted_at timestamptz NOT NULL DEFAULT now(),
        queued_at timestamptz,
        sent_at timestamptz,
        delivered_at timestamptz,
        completed_at timestamptz,
        last_checked_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT messages_status_check CHECK (status IN
          ('scheduled','pending','queued','sent','delivered','failed','expired','canceled'))
      )`);
    await q.query(`CREATE INDEX messages_notification_idx ON messages (notification_id)`);
    // The sweeper and the scheduler look for work by status and time.
    await q.query(
      `CREATE INDEX messages_dispatch_idx ON messages (status, next_attempt_at) WHERE status IN ('scheduled','pending')`,
    );
    // Reconciliation polls messages the provider holds, oldest news first.
    await q.query(
      `CREATE INDEX messages_inflight_idx ON messages (status, updated_at) WHERE status IN ('queued','sent')`,
    );
    await q.query(`CREATE INDEX messages_submitted_idx ON messages (submitted_at)`);

    await q.query(`
      CREATE TABLE message_events (
        id bigserial PRIMARY KEY,
        message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        type text NOT NULL,
        status text,
        source text NOT NULL,
        dedupe_key text,
        details jsonb,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX message_events_message_idx ON message_events (message_id, id)`);
    // A provider event applied twice (replay, duplicate delivery, webhook + poll) leaves one row.
    await q.query(
      `CREATE UNIQUE INDEX message_events_dedupe_idx ON message_events (message_id, dedupe_key) WHERE dedupe_key IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE idempotency_records (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        notification_id uuid REFERENCES notifications(id) ON DELETE CASCADE,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        UNIQUE (team, key)
      )`);
    await q.query(`CREATE INDEX idempotency_expires_idx ON idempotency_records (expires_at)`);

    // Provider events for a message id we don't know yet (the webhook beat our commit).
    await q.query(`
      CREATE TABLE pending_provider_events (
        id bigserial PRIMARY KEY,
        provider_message_id text NOT NULL,
        payload jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX pending_provider_events_pmid_idx ON pending_provider_events (provider_message_id)`,
    );

    await q.query(`
      CREATE TABLE team_callback_secrets (
        team text PRIMARY KEY,
        secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE callback_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        notification_id uuid NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
        message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        event_id bigint NOT NULL UNIQUE REFERENCES message_events(id) ON DELETE CASCADE,
        url text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        CONSTRAINT callback_deliveries_status_check CHECK (status IN ('pending','delivered','failed'))
      )`);
    await q.query(
      `CREATE INDEX callback_deliveries_pending_idx ON callback_deliveries (status, updated_at) WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX callback_deliveries_notification_idx ON callback_deliveries (notification_id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'callback_deliveries',
      'team_callback_secrets',
      'pending_provider_events',
      'idempotency_records',
      'message_events',
      'messages',
      'notifications',
      'template_versions',
      'templates',
      'api_keys',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
