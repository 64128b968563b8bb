#!/usr/bin/env bash
# Usage: scripts/measure-table-sizes.sh [messages=1000000]  (PGHOST/PGUSER as for psql; makes, fills, measures and drops notify_sizing_<random>)
#
# Sizes of what the service stores per message, for docs/capacity.md "What one PostgreSQL holds".
# Runs the real migrations on a throwaway database, fills it with generate_series in the shape
# the lifecycle repository writes (one notification per 2 messages, the happy path's 4 timeline
# rows per message, 3 status callbacks per message whose notification has a callback_url), then
# VACUUM ANALYZE and prints bytes per row and every index. A second, smaller table set replays a
# message's 4 updates (claim, queued, sent, delivered) to show what updates add over a packed
# bulk load. Everything runs at nice 19, the database backend included.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
DB=notify_sizing_$RANDOM$RANDOM
psql -qAt -d postgres -c "CREATE DATABASE $DB"
trap 'psql -qAt -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT

# `npm run migration:run` does not register the tsconfig paths (@app/…), so call the CLI directly.
DATABASE_URL=postgres://$PGUSER@$PGHOST:5432/$DB nice -n 19 node -r ts-node/register/transpile-only \
  -r tsconfig-paths/register node_modules/typeorm/cli.js migration:run \
  -d apps/notification-service/src/database/data-source.ts >/dev/null

echo "date: $(date -u +%FT%TZ)  nproc: $(nproc)  RAM: $(free -g | awk '/Mem:/{print $2}') GB"
echo "$(psql -qAt -d "$DB" -c 'SELECT version()')"
echo "messages: $N"

nice -n 19 psql -q -v ON_ERROR_STOP=1 -v n="$N" -d "$DB" <<'SQL'
\o /dev/null
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND_PID :pid
\! renice -n 19 -p "$BACKEND_PID" >/dev/null 2>&1 || true
\o
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
\timing on
-- Bulk loads skip the callback trigger (session_replication_role = replica also skips FK
-- checks); callback_deliveries is filled below with the payload the trigger builds.
SET session_replication_role = replica;

CREATE TABLE clock AS SELECT date_trunc('day', now()) - interval '1 day' AS t0;

INSERT INTO notifications (id, team, api_key_id, template_key, template_version, sender_id, priority,
  scheduled_at, expires_at, callback_url, reference, recipient_count, created_at)
SELECT gen_random_uuid(),
  (ARRAY['payments','identity','shipping','marketing','support'])[1 + i % 5],
  gen_random_uuid(),
  (ARRAY['order_shipped','otp_login','payment_receipt','appointment_reminder'])[1 + i % 4],
  3, 'Acme', (ARRAY['high','normal','normal','low'])[1 + i % 4],
  CASE WHEN i % 10 = 0 THEN t0 + (i * 2) * (interval '1 day' / :n) END,
  CASE WHEN i % 3 = 0 THEN t0 + (i * 2) * (interval '1 day' / :n) + interval '1 hour' END,
  CASE WHEN i % 2 = 0 THEN 'https://orders.internal.example.com/hooks/sms-status' END,
  CASE WHEN i % 10 < 7 THEN 'order-' || (10000000 + i) END,
  2, t0 + (i * 2) * (interval '1 day' / :n)
FROM generate_series(1, :n / 2) i, clock;

-- Two messages per notification, in arrival order; statuses: 95% delivered, 3% failed,
-- 1% expired, 1% still sent.
INSERT INTO messages (id, notification_id, recipient, body, sender_id, characters, encoding, segments,
  status, priority, scheduled_at, expires_at, next_attempt_at, dispatch_seq, attempts,
  provider_message_id, credits_used, credits_remaining, error_code, error_message,
  submitted_at, queued_at, sent_at, delivered_at, completed_at, last_checked_at, updated_at)
SELECT gen_random_uuid(), n.id,
  '+1' || (2000000000 + (hashtext(n.id::text || k) & 2147483647) % 7999999999)::text,
  -- A 60-character body.
  left('Acme: your order ' || substr(md5(n.id::text), 1, 8) || ' has shipped, track it at ex.co/t/'
    || md5(n.id::text || k), 60),
  'Acme', 60, 'GSM-7', 1, s.status, 2, n.scheduled_at, n.expires_at, n.created_at, 0, 1,
  'msg_' || substr(md5(n.id::text || k), 1, 16), 1, 100000,
  CASE s.status WHEN 'failed' THEN 'undeliverable' WHEN 'expired' THEN 'status_timeout' END,
  CASE s.status WHEN 'failed' THEN 'The carrier rejected the message' END,
  n.created_at, n.created_at + interval '0.4 s', n.created_at + interval '2 s',
  CASE WHEN s.status = 'delivered' THEN n.created_at + interval '6 s' END,
  CASE WHEN s.status <> 'sent' THEN n.created_at + interval '6 s' END,
  n.created_at + interval '6 s', n.created_at + interval '6 s'
FROM notifications n
CROSS JOIN generate_series(1, 2) k
CROSS JOIN LATERAL (SELECT CASE WHEN (hashtext(n.id::text || k) & 1023) < 10 THEN 'sent'
                                WHEN (hashtext(n.id::text || k) & 1023) < 20 THEN 'expired'
                                WHEN (hashtext(n.id::text || k) & 1023) < 51 THEN 'failed'
                                ELSE 'delivered' END AS status) s
ORDER BY n.created_at, k;

-- The happy path's timeline, one pass per kind as they arrive in time: accepted (intake),
-- queued (worker, with provider id and attempt), sent and the final status (webhook, deduped).
INSERT INTO message_events (message_id, type, status, source, details, occurred_at, created_at)
SELECT id, 'accepted', 'pending', 'api', NULL, submitted_at, submitted_at FROM messages ORDER BY submitted_at;
INSERT INTO message_events (message_id, type, status, source, details, occurred_at, created_at, status_change)
SELECT id, 'queued', 'queued', 'worker',
  jsonb_build_object('provider_message_id', provider_message_id, 'credits_used', 1, 'attempt', 1),
  queued_at, queued_at, true FROM messages ORDER BY submitted_at;
INSERT INTO message_events (message_id, type, status, source, dedupe_key, details, occurred_at, created_at, status_change)
SELECT id, 'sent', 'sent', 'webhook', 'provider:sent', NULL, sent_at, sent_at, true
FROM messages ORDER BY submitted_at;
INSERT INTO message_events (message_id, type, status, source, dedupe_key, details, occurred_at, created_at, status_change)
SELECT id, status, status, 'webhook', 'provider:' || status,
  CASE WHEN error_code IS NOT NULL THEN jsonb_build_object('error',
    jsonb_build_object('code', error_code, 'message', COALESCE(error_message, error_code))) END,
  completed_at, completed_at, true
FROM messages WHERE status <> 'sent' ORDER BY submitted_at;

-- What the trigger writes for each status change of a message whose notification has a URL.
INSERT INTO callback_deliveries (notification_id, message_id, event_id, url, payload, status, attempts,
  last_status_code, created_at, updated_at, delivered_at, next_attempt_at)
SELECT m.notification_id, m.id, e.id, n.callback_url,
  jsonb_build_object('event', 'message.' || e.status, 'notification_id', m.notification_id,
    'message_id', m.id, 'reference', n.reference, 'to', m.recipient, 'status', e.status,
    'error', e.details -> 'error',
    'occurred_at', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
  'delivered', 1, 200, e.created_at, e.created_at + interval '50 ms', e.created_at + interval '50 ms',
  e.created_at
FROM message_events e JOIN messages m ON m.id = e.message_id JOIN notifications n ON n.id = m.notification_id
WHERE e.status_change AND n.callback_url IS NOT NULL ORDER BY e.id;

-- One idempotency record per notification (callers that send a key), with its stored response.
INSERT INTO idempotency_records (team, key, request_hash, notification_id, response, created_at, expires_at)
SELECT n.team, gen_random_uuid()::text, md5(n.id::text) || md5(n.team), n.id,
  jsonb_build_object('id', n.id, 'status', 'accepted', 'template', n.template_key,
    'template_version', 3, 'scheduled_at', NULL, 'messages',
    (SELECT jsonb_agg(jsonb_build_object('id', m.id, 'to', m.recipient, 'status', 'pending'))
       FROM messages m WHERE m.notification_id = n.id)),
  n.created_at, n.created_at + interval '24 h'
FROM notifications n;

SET session_replication_role = origin;
DROP TABLE clock;
VACUUM ANALYZE;
CREATE TEMP TABLE counts AS
SELECT c.oid AS relid, c.relname, (xpath('/row/c/text()',
  query_to_xml(format('SELECT count(*) AS c FROM %I', c.relname), false, true, '')))[1]::text::bigint AS n
FROM pg_class c WHERE c.relname IN ('notifications', 'messages', 'message_events',
  'callback_deliveries', 'idempotency_records');
\timing off

\echo
\echo '== tables (bytes per row: heap incl. TOAST, indexes, total)'
SELECT relname AS table, n AS rows,
  pg_size_pretty(pg_table_size(relid)) AS heap,
  pg_size_pretty(pg_indexes_size(relid)) AS indexes,
  pg_size_pretty(pg_total_relation_size(relid)) AS total,
  round(pg_table_size(relid)::numeric / n) AS heap_b_row,
  round(pg_indexes_size(relid)::numeric / n) AS idx_b_row,
  round(pg_total_relation_size(relid)::numeric / n) AS total_b_row
FROM counts ORDER BY pg_total_relation_size(relid) DESC;

\echo '== indexes (bytes per row of their table)'
SELECT i.indrelid::regclass AS table, c.relname AS index,
  pg_size_pretty(pg_relation_size(c.oid)) AS size,
  round(pg_relation_size(c.oid)::numeric / t.n, 1) AS b_per_row
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN counts t ON t.relid = i.indrelid
ORDER BY t.relname, pg_relation_size(c.oid) DESC;

\echo '== per message, everything (4 events, 1.5 callbacks, 0.5 notification and idempotency record)'
SELECT round(sum(pg_total_relation_size(relid))::numeric / :n) AS bytes_per_message,
  round(sum(pg_indexes_size(relid))::numeric / :n) AS index_bytes_per_message
FROM counts;

-- Updates: a message row is written 5 times (insert, claim, queued, sent, delivered), and the
-- columns they change are indexed, so none of these updates is HOT. Replay that on a copy of
-- 100,000 rows with all of messages' indexes, vacuuming between passes as autovacuum would.
\echo '== messages after its 4 lifecycle updates vs the same rows packed (100,000 rows)'
CREATE TABLE m2 (LIKE messages INCLUDING ALL);
INSERT INTO m2 SELECT * FROM messages WHERE status = 'delivered' ORDER BY submitted_at LIMIT 100000;
UPDATE m2 SET status = 'pending', attempts = 0, provider_message_id = NULL, queued_at = NULL,
  sent_at = NULL, delivered_at = NULL, completed_at = NULL, last_checked_at = NULL,
  credits_used = NULL, credits_remaining = NULL;
VACUUM FULL m2;
UPDATE m2 SET claimed_at = now(), claim_token = gen_random_uuid(), claim_owner = gen_random_uuid(),
  attempts = 1, updated_at = now();
VACUUM m2;
UPDATE m2 SET status = 'queued', claimed_at = NULL, claim_token = NULL, claim_owner = NULL,
  provider_message_id = 'msg_' || substr(md5(id::text), 1, 16), credits_used = 1,
  credits_remaining = 100000, queued_at = submitted_at + interval '0.4 s', updated_at = now();
VACUUM m2;
UPDATE m2 SET status = 'sent', sent_at = submitted_at + interval '2 s', last_checked_at = now(), updated_at = now();
VACUUM m2;
UPDATE m2 SET status = 'delivered', delivered_at = submitted_at + interval '6 s',
  completed_at = now(), last_checked_at = now(), updated_at = now();
VACUUM m2;
SELECT pg_table_size('m2') AS heap_after, pg_indexes_size('m2') AS idx_after \gset
VACUUM FULL m2;
SELECT pg_size_pretty(:heap_after::bigint) AS heap_after, pg_size_pretty(pg_table_size('m2')) AS heap_packed,
  pg_size_pretty(:idx_after::bigint) AS indexes_after, pg_size_pretty(pg_indexes_size('m2')) AS indexes_packed,
  round((:heap_after + :idx_after)::numeric / pg_total_relation_size('m2'), 2) AS factor;
DROP TABLE m2;
SQL
