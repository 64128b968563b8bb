import type { Variable } from './load-config';

/**
 * What each variable of load-config.ts means, for docs/configuration.md (`npm run docs:config`
 * writes it; a spec fails when the committed file differs). Keyed by variable, so a new variable
 * does not type-check until it is described here. Markdown; links are relative to docs/.
 * `unset` says what an unset variable without a fixed default means.
 */
export const VARIABLE_DOCS: Record<Variable, { meaning: string; unset?: string }> = {
  PORT: { meaning: 'HTTP port.' },
  HOST: {
    meaning:
      'Interface to listen on; loopback unless you open it (`/metrics` and `/docs` need no key). The Docker image sets `0.0.0.0`.',
  },
  TRUST_PROXY: {
    meaning:
      'Which `X-Forwarded-For` hops to believe: `false` (none), the number of proxies in front (`1` behind one ingress or sidecar), or their addresses/CIDRs (`10.0.0.0/8,loopback`). The client is the rightmost address not trusted. `true` is refused: it believes what a client writes. See [what one caller cannot do to the others](guarantees.md#what-one-caller-cannot-do-to-the-others).',
  },
  HTTP_HEADERS_TIMEOUT_MS: {
    meaning:
      'A connection must send its request line and headers within this; else 408 `request_timeout` and the connection is closed.',
  },
  HTTP_REQUEST_TIMEOUT_MS: {
    meaning:
      'A connection must send its whole body within this (at least `HTTP_HEADERS_TIMEOUT_MS`); else 408 `request_timeout` and the connection is closed.',
  },
  HTTP_KEEP_ALIVE_TIMEOUT_MS: {
    meaning:
      "An idle kept-alive connection is closed after this (longer than common load balancers' 60 s, so they close first).",
  },
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: {
    meaning:
      'Open connections one peer address may hold (`0`: no cap; trusted proxy addresses are exempt); a connection over it is closed at once.',
  },
  HTTP_MAX_CONNECTIONS: {
    meaning:
      'Open connections in all, never more than the open-files limit less 256 kept for PostgreSQL, Redis and outgoing calls; a connection over it is closed at once.',
  },
  NODE_ENV: {
    meaning:
      "`production` refuses to start with published credentials (the sandbox's `sk_test_sandbox`/`sk_test_e2e` or `whsec_sandbox`, the README's development `ADMIN_API_KEY`): anyone could forge delivery reports or act as admin. The image sets it; docker-compose.yml sets `development` for its sandbox. Warns about `CALLBACK_ALLOW_LOOPBACK`.",
  },
  AUTH_FAILURE_LIMIT: {
    meaning:
      'Failed authentications per client address (an IPv6 address counts as its /64) and per key prefix per window (`AUTH_FAILURE_WINDOW_MS`), counted in Redis across instances; over it, further _failures_ get 429 `too_many_failed_authentications` with `Retry-After` instead of 401 until the window ends. A valid key is never refused. Admins see blocks at `GET /v1/auth/blocks` and end one with `DELETE /v1/auth/blocks/{kind}/{value}`. The first failure of a window is logged, the rest in one summary line at its end.',
  },
  AUTH_FAILURE_WINDOW_MS: { meaning: 'The window of `AUTH_FAILURE_LIMIT`.' },
  CONSOLE_DIR: {
    meaning:
      'The built web console served at `/console/` (relative to the working directory; `npm run build:console` builds it).',
  },
  DATABASE_URL: {
    meaning: 'Created if missing; migrations run at start (under an advisory lock).',
  },
  REDIS_URL: {
    meaning:
      'Bull queues, the shared rate budget, cache invalidations. One server: `redis://[user:password@]host:port[/db]`; a Redis Cluster: `redis+cluster://[user:password@]host:port,host:port,…` (seed masters: two or three are enough, the rest is discovered; nodes must be reachable at the addresses they announce). `rediss://` / `rediss+cluster://` for TLS.',
  },
  QUEUE_PREFIX: {
    meaning:
      "Redis key prefix: several stacks can share one Redis. Every key is `{QUEUE_PREFIX}:…`, so on a cluster all of a stack's keys share one hash slot (see [Redis Cluster](design.md#redis-cluster)).",
  },
  APP_ROLE: {
    meaning: '`api` (HTTP intake), `worker` (sending, periodic jobs, callbacks) or `all`.',
  },
  PUBLIC_BASE_URL: {
    meaning:
      'How the provider reaches an instance with the `api` role (the `callback_url` of each send).',
    unset: '`http://127.0.0.1:$PORT`',
  },
  ADMIN_API_KEY: {
    meaning:
      'Bootstrap key with every scope (≥ 16 characters); the demo sets a dev value. Without it and without an admin key in the database, `npm run keys:create -- --team ops --scopes admin` mints one.',
    unset: 'none',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    meaning:
      "OTLP/HTTP collector base URL (`…/v1/traces` is appended): OpenTelemetry spans for HTTP in and out, PostgreSQL, Redis, and one `send message` span per send job, parented to the request that created it; each provider webhook's `provider webhook` span and each status callback's `status callback` span link to the send they report on. Off: the SDK is not even loaded. The SDK's own `OTEL_*` variables (e.g. `OTEL_BSP_SCHEDULE_DELAY`) apply.",
    unset: 'none (tracing off)',
  },
  OTEL_SERVICE_NAME: { meaning: '`service.name` of the spans.' },
  LOG_LEVEL: {
    meaning:
      'Level of the JSON logs (`silent`, `fatal`, `error`, `warn`, `info`, `debug`, `trace`); see [logs](operations.md#logs).',
  },

  SMS_PROVIDER_BASE_URL: { meaning: 'Provider base URL.' },
  SMS_PROVIDER_API_KEY: { meaning: 'Provider API key; never logged.' },
  SMS_PROVIDER_PLAN: { meaning: '`standard` (10 requests/s) or `enterprise` (50 requests/s).' },
  SMS_PROVIDER_WEBHOOK_SECRET: { meaning: 'HMAC secret of provider webhooks.' },
  SMS_PROVIDER_TIMEOUT_MS: { meaning: 'Per provider request.' },
  SMS_PROVIDER_REGISTER_WEBHOOK: {
    meaning: 'Register our webhook URL with the provider at start (idempotent), for each account.',
  },
  SMS_PROVIDER_ACCOUNTS: {
    meaning:
      'Several provider accounts: a JSON array, or the path of a JSON file holding one, of `{"name", "base_url", "api_key", "plan", "webhook_secret", "categories"?, "teams"?}`. A message goes to the first account whose `categories` and `teams` match it (absent: any), and fails over to the next when its account is out of credits, refuses the key, or its circuit is open ([accounts](design.md#provider-accounts)). Each category needs an account without `teams`. Webhooks of account `x` arrive at `/v1/webhooks/provider/x`.',
    unset: 'one account named `default` from the `SMS_PROVIDER_*` variables above',
  },
  SMS_PROVIDER_CIRCUIT_MAX_OPEN_MS: {
    meaning:
      "The longest an account's circuit stays open before the next probe: after 5 whole-provider failures in a row (5xx, timeouts, refused connections) it opens for 1 s, doubled after each failed probe up to this.",
  },

  SEND_CONCURRENCY: {
    meaning: 'Send jobs in flight per worker process.',
    unset: "60% of the plan's rate, at least 4",
  },
  SEND_MAX_ATTEMPTS: {
    meaning:
      'Attempts per message for retryable errors about the message itself. The provider failing (5xx, timeouts, refused connections), 429s and unavailable accounts are no attempt: the message waits until its validity ends.',
  },
  SEND_RETRY_BASE_MS: {
    meaning:
      'First retry delay (exponential backoff with jitter up to `SEND_RETRY_MAX_MS`), and the wait after the provider failed a send.',
  },
  SEND_RETRY_MAX_MS: { meaning: 'The longest retry delay.' },
  SEND_BATCH_MAX: {
    meaning:
      'Recipients per provider request at most: messages with the same text, sender, category, priority and team due together go out as one request with `to: [...]`; 1 sends one request per message.',
  },
  SEND_BATCH_WINDOW_MS: {
    meaning:
      'Messages due within this of the one a worker sends may join its request (a one-by-one broadcast batches too).',
  },
  SEND_CLAIM_TIMEOUT_MS: {
    meaning:
      "Backstop: a claim of a _live_ worker with no recorded answer after this is retried (must exceed the provider timeout); a dead worker's claims are released by its lease.",
  },
  THROTTLE_SAFETY_FACTOR: {
    meaning:
      'Fraction of the plan rate the schedule aims at; the limit itself is held by the log of calls, whatever the factor, so this only trades rate for room for slow answers (limit + 1 calls span 1000 / factor ms: 0.995 uses 99.5% of the plan with answers within ~5 ms).',
  },
  THROTTLE_COUNTED_WITHIN_MS: {
    meaning:
      "The latest, after a call left us, that the provider may count it; unset, a call counts until the provider answered it, so the limit holds whatever the network does, and `limit` + 1 calls are spaced by a second plus the provider's response time. Set it only for a provider known to count requests sooner ([the throttle](guarantees.md#why-the-rate-limit-holds)).",
    unset: 'unset (until the answer, at most `SMS_PROVIDER_TIMEOUT_MS` + 1 s)',
  },
  WORKER_LEASE_TTL_MS: {
    meaning:
      "A sending process's lease lapses this long after its last heartbeat; its claims are then released at once ([crash recovery](guarantees.md#crash-safety)).",
  },
  WORKER_HEARTBEAT_MS: {
    meaning: 'Lease renewal and dead-claim check period (at most half the TTL).',
  },

  SWEEP_INTERVAL_MS: {
    meaning: 'Sweeper period (lost jobs, due scheduled messages, expiries, stale claims).',
  },
  CREDITS_CHECK_INTERVAL_MS: {
    meaning:
      'While paused for credits, how often the accounts are checked; also how long an account that refused for lack of credits or a bad key is held back before it is tried again.',
  },
  SCHEDULE_LOOKAHEAD_MS: {
    meaning: 'Scheduled messages due within this get their delayed job.',
  },
  RECONCILE_INTERVAL_MS: { meaning: 'Polling reconciliation period.' },
  RECONCILE_STALE_AFTER_MS: {
    meaning:
      'A queued/sent message quiet this long is polled first; then at 2, 5, 15 and 60 times it, then every 60 times it (1, 2, 5, 15, 60 min, hourly).',
  },
  RECONCILE_MAX_AGE_MS: {
    meaning: 'No final status this long after hand-over → `expired` (`status_timeout`).',
  },
  RECONCILE_BATCH_SIZE: { meaning: 'Polls per reconciliation round at most.' },
  PARKED_EVENTS_MAX: {
    meaning:
      'Webhook events for a message not known yet are parked (only their parsed, bounded fields: ~300 bytes a row, 2.5 KB at most) until it appears, up to 7 days; beyond this many rows they are acknowledged and dropped (`notify_parked_events_dropped_total{reason="full"}`): polling still resolves the message. `0` parks nothing.',
  },
  PARKED_EVENTS_PER_SECOND: {
    meaning:
      'Events parked per second per instance (a burst of one second\'s worth); the excess is acknowledged and dropped (`reason="rate"`). Only a webhook that beats our commit of the send is parked legitimately, a few a second at the enterprise plan.',
  },

  RECIPIENT_CAP_OTP: {
    meaning:
      'At most so many one-time codes to one number per window (`N/window`, e.g. `5/1h`; `0`: no cap), across all teams and instances. A code over it ends `failed` with `recipient_rate_limited`, never sent: a script hammering a sign-in form gets 5 texts per number per hour, not thousands. See [recipient protection](recipient-protection.md).',
    unset: '`5/1h`',
  },
  RECIPIENT_CAP_TRANSACTIONAL: {
    meaning:
      'The same cap for transactional messages: a loop in a caller stops at 30 texts an hour to one person.',
    unset: '`30/1h`',
  },
  RECIPIENT_CAP_MARKETING: {
    meaning: 'The same cap for marketing messages: two campaigns a day reach one person at most.',
    unset: '`2/24h`',
  },
  QUIET_HOURS_OTP: {
    meaning:
      'Local hours (`HH:MM-HH:MM`, may wrap past midnight; `off`) in which one-time codes wait. Off: a code is asked for now, whatever the hour.',
    unset: '`off`',
  },
  QUIET_HOURS_TRANSACTIONAL: {
    meaning:
      'The same for transactional messages. Off: an order or a password change is news at any hour.',
    unset: '`off`',
  },
  QUIET_HOURS_MARKETING: {
    meaning:
      "The same for marketing: a message due inside the window in the recipient's time zone waits until it ends (`scheduled`, with a `deferred` timeline entry).",
    unset: '`21:00-08:00`',
  },
  QUIET_HOURS_DEFAULT_TIMEZONE: {
    meaning:
      "The recipient's zone when the request names no `timezone` and the number's country has more than one zone (IANA name).",
  },
  MESSAGE_VALIDITY_OTP: {
    meaning:
      "A one-time code not handed to the provider within this of being due ends `expired` (`validity_elapsed`): a code arriving after the sign-in gave up only confuses. A request's earlier `expires_at` wins.",
    unset: '`10m`',
  },
  MESSAGE_VALIDITY_TRANSACTIONAL: {
    meaning: 'The same for transactional messages.',
    unset: '`24h`',
  },
  MESSAGE_VALIDITY_MARKETING: {
    meaning: 'The same for marketing: a promotion days late is worse than none.',
    unset: '`72h`',
  },
  CALLBACK_MAX_ATTEMPTS: {
    meaning: 'Attempts per caller status callback ([callbacks](callbacks.md)).',
  },
  CALLBACK_RETRY_BASE_MS: { meaning: 'First retry delay of a status callback.' },
  CALLBACK_TIMEOUT_MS: { meaning: 'Per status callback request.' },
  CALLBACK_TEAM_CONCURRENCY: {
    meaning:
      "Callback requests of one team in flight per process (of 10): a team whose endpoint is slow holds at most this many workers, and its other callbacks wait their turn (re-planned a second later) while other teams' go out.",
  },
  CALLBACK_ALLOW_LOOPBACK: {
    meaning: 'Let callbacks reach 127.0.0.0/8 and ::1: local development and tests only.',
  },
  CALLBACK_ALLOWED_HOSTS: {
    meaning:
      'Comma-separated host names (`.example.com` for a domain) or CIDRs: when set, callbacks go only there.',
    unset: 'none (any host the built-in rules allow)',
  },
  CALLBACK_DENIED_CIDRS: {
    meaning:
      'Comma-separated CIDRs callbacks refuse on top of the built-in ones (link-local and metadata, IPv6 unique-local fc00::/7, unspecified, multicast, Teredo; loopback unless allowed; an IPv6 address carrying an IPv4 one, NAT64 or 6to4, is judged as that IPv4 address).',
  },
};
