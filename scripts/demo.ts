/**
 * `npm run demo`: the whole notification flow end to end, with PostgreSQL and Redis on localhost
 * or, when none answers there, throwaway servers of its own (see prepareStorage).
 *
 * Starts the provider sandbox and the notification service as child processes (from source, on
 * free ports, with a database and Redis prefix named for this run), creates a template,
 * sends one notification to several numbers (some of which the sandbox fails on purpose) plus a
 * scheduled one, waits until every message is final and prints what happened to each. Exits 0
 * only when every message ended as expected; stops everything it started in every case.
 *
 * `npm run demo -- --keep` leaves the stack running afterwards, with the web console's address
 * and a key printed, until Enter (exit 0) or Ctrl-C stops everything.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTerminal } from '../apps/notification-service/src/delivery-status/message-status';
import {
  callApi,
  CONSOLE_DIST,
  databaseUrl,
  deleteRedisKeys,
  dropDatabase,
  ensureConsoleBuilt,
  expectStatus,
  freePort,
  hasRedisServer,
  type ManagedProcess,
  pings,
  postgresAnswers,
  postgresBinDir,
  SANDBOX_ENTRY,
  SERVICE_ENTRY,
  stackKeysPattern,
  startPostgresServer,
  startRedisServer,
  startTsProcess,
  stopProcess,
  uniqueId,
  waitFor,
  waitUntilAnswers,
} from '../tools/stack';
import {
  clockTime,
  countByStatus,
  meetsExpectation,
  messageTable,
  seconds,
  table,
  tailOf,
  type Expectation,
  type MessageView,
  type Row,
} from './demo/report';

// The demo reads three variables, all optional: DEMO_DATABASE_URL (a database of your own, kept
// afterwards), DEMO_REDIS_URL and DEMO_QUEUE_PREFIX. Otherwise each run gets a database and a Redis
// prefix with a name of its own, removed at the end, so several people can run it on one server.
// When nothing answers on the local PostgreSQL or Redis address, it starts throwaway servers; where
// it looks first is DEMO_LOCAL_POSTGRES_URL / DEMO_LOCAL_REDIS_URL (default the standard ports).
const LOCAL_POSTGRES_ADMIN_URL =
  process.env.DEMO_LOCAL_POSTGRES_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_REDIS_URL = process.env.DEMO_LOCAL_REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
const RUN_TAG = uniqueId();
const ADMIN_API_KEY = 'demo-admin-key-0123456789';
/** `npm run demo -- --keep`: leave the stack up for the web console until Enter or Ctrl-C. */
const KEEP = process.argv.slice(2).includes('--keep');
const DEMO_REFERENCE = 'demo-order-1042';
const INSTALL_HINT =
  'install PostgreSQL and Redis, or run `docker compose up -d postgres redis`, or set DEMO_DATABASE_URL / DEMO_REDIS_URL';

const STARTUP_TIMEOUT_MS = 45_000;
const FINAL_STATUS_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const SCHEDULE_AHEAD_MS = 5_000;

const TEMPLATE = {
  key: 'order_shipped',
  body: 'Hi {{name}}, your order {{order_id}} has shipped.',
  sender_id: 'Acme',
};

/** The sandbox decides each outcome by the number's last three digits (its README). */
const IMMEDIATE: Expectation[] = [
  { to: '+14155550100', status: 'delivered', errorCode: null, why: 'ordinary number' },
  { to: '+14155550101', status: 'delivered', errorCode: null, why: 'ordinary number' },
  { to: '+14155550102', status: 'delivered', errorCode: null, why: 'ordinary number' },
  { to: '+14155550666', status: 'failed', errorCode: 'undeliverable', why: 'sandbox fails ...666' },
  {
    to: '+14155550400',
    status: 'failed',
    errorCode: 'invalid_phone_number',
    why: 'sandbox refuses ...400',
  },
];
const SCHEDULED: Expectation = {
  to: '+14155550103',
  status: 'delivered',
  errorCode: null,
  why: `scheduled ${SCHEDULE_AHEAD_MS / 1000} s ahead`,
};

interface AcceptedNotification {
  id: string;
  status: string;
  messages: { id: string; to: string; status: string }[];
}

interface NotificationView {
  id: string;
  scheduled_at: string | null;
  messages: MessageView[];
}

interface DeliveryFigures {
  total: number;
  delivered: number;
  failed: number;
  delivery_rate: number | null;
  p50_delivery_seconds: number | null;
  p95_delivery_seconds: number | null;
  segments: number;
}

/** Undo actions, run last-in first-out exactly once, whether the demo succeeds, fails or is interrupted. */
class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }

  run(): Promise<void> {
    this.running ??= this.runAll();
    return this.running;
  }

  private async runAll(): Promise<void> {
    for (const step of [...this.steps].reverse()) {
      try {
        await step.run();
      } catch (error) {
        // Keep going: one failed step must not leave the other processes running.
        console.error(`  cleanup: ${step.name} failed: ${String(error)}`);
      }
    }
  }
}

interface Stack {
  sandbox: ManagedProcess;
  service: ManagedProcess;
  serviceUrl: string;
  sandboxUrl: string;
}

/** Where the demo keeps its state this run. */
interface Storage {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
}

/**
 * PostgreSQL and Redis for this run: the given or local ones when they answer, else throwaway
 * servers of the demo's own (stopped and removed at the end); a database and a Redis prefix named
 * for this run, removed at the end too (a DEMO_DATABASE_URL database is yours and is kept).
 */
function hostOf(url: string): string {
  return new URL(url).host;
}

async function prepareStorage(cleanup: Cleanup): Promise<Storage> {
  const queuePrefix = process.env.DEMO_QUEUE_PREFIX?.trim() || `notify-demo-${RUN_TAG}`;
  let databaseUrlForRun = process.env.DEMO_DATABASE_URL?.trim();
  if (databaseUrlForRun) {
    console.log(`  database: DEMO_DATABASE_URL (kept afterwards)`);
  } else {
    let adminUrl = LOCAL_POSTGRES_ADMIN_URL;
    if (!(await postgresAnswers(adminUrl))) {
      if (!postgresBinDir())
        throw new Error(`No PostgreSQL answers at ${hostOf(adminUrl)}: ${INSTALL_HINT}`);
      const own = await startPostgresServer();
      cleanup.add('stop throwaway PostgreSQL', () => own.stop());
      adminUrl = own.adminUrl;
      console.log(
        `  nothing answered at ${hostOf(LOCAL_POSTGRES_ADMIN_URL)}: throwaway PostgreSQL on :${own.port}`,
      );
    }
    const name = `notify_demo_${RUN_TAG}`;
    databaseUrlForRun = databaseUrl(adminUrl, name);
    // The service creates and migrates it at start-up.
    cleanup.add('drop the demo database', async () => {
      await dropDatabase(adminUrl, name);
      console.log(`  database ${name}: dropped`);
    });
    console.log(`  database: ${name} (dropped afterwards)`);
  }

  let redisUrl = process.env.DEMO_REDIS_URL?.trim() || LOCAL_REDIS_URL;
  if (!(await pings(redisUrl))) {
    if (process.env.DEMO_REDIS_URL || !hasRedisServer()) {
      throw new Error(`No Redis answers at ${redisUrl}: ${INSTALL_HINT}`);
    }
    const own = await startRedisServer();
    cleanup.add('stop throwaway Redis', () => own.stop());
    redisUrl = own.url;
    console.log(
      `  nothing answered at ${hostOf(LOCAL_REDIS_URL)}: throwaway Redis on :${own.port}`,
    );
  }
  cleanup.add('delete Redis keys', async () => {
    const n = await deleteRedisKeys(redisUrl, stackKeysPattern(queuePrefix));
    console.log(`  ${n} Redis key(s) under ${queuePrefix}: deleted`);
  });
  console.log(`  Redis prefix: ${queuePrefix} (deleted afterwards)`);
  return { databaseUrl: databaseUrlForRun, redisUrl, queuePrefix };
}

function startStack(
  logDir: string,
  cleanup: Cleanup,
  storage: Storage,
  sandboxPort: number,
  servicePort: number,
) {
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const serviceUrl = `http://127.0.0.1:${servicePort}`;
  const sandbox = startTsProcess({
    name: 'sandbox',
    entry: SANDBOX_ENTRY,
    logPath: join(logDir, 'sandbox.log'),
    env: {
      SANDBOX_PORT: String(sandboxPort),
      SANDBOX_HOST: '127.0.0.1',
      // A little quicker than the defaults (300/1000 ms), still visibly asynchronous.
      SANDBOX_SENT_DELAY_MS: '300',
      SANDBOX_DELIVERED_DELAY_MS: '700',
    },
  });
  cleanup.add('stop sandbox', async () =>
    report('sandbox', await stopProcess(sandbox, { graceMs: STOP_GRACE_MS })),
  );
  const service = startTsProcess({
    name: 'notification-service',
    entry: SERVICE_ENTRY,
    logPath: join(logDir, 'service.log'),
    env: {
      PORT: String(servicePort),
      DATABASE_URL: storage.databaseUrl,
      REDIS_URL: storage.redisUrl,
      QUEUE_PREFIX: storage.queuePrefix,
      SMS_PROVIDER_BASE_URL: `${sandboxUrl}/v1`,
      // The sandbox's webhooks come back here (the default, spelled out for the reader).
      PUBLIC_BASE_URL: serviceUrl,
      ADMIN_API_KEY,
      CONSOLE_DIR: CONSOLE_DIST,
    },
  });
  cleanup.add('stop service', async () =>
    report('notification-service', await stopProcess(service, { graceMs: STOP_GRACE_MS })),
  );
  return { sandbox, service, sandboxUrl, serviceUrl };
}

function report(name: string, outcome: string): void {
  // After a Ctrl-C the terminal's SIGINT reached the children too: gone already is stopped.
  console.log(`  ${name}: ${outcome === 'not running' ? 'stopped' : outcome}`);
}

/** Waits for the sandbox to answer and the service's /health/ready (database + Redis) to be 200. */
async function waitUntilReady(stack: Stack): Promise<void> {
  // A crash at start-up (bad config, port taken) fails the wait at once, not at the deadline.
  const wait = { timeoutMs: STARTUP_TIMEOUT_MS, intervalMs: 250 };
  await Promise.all([
    // Admin routes: no auth and no rate limit, so waiting does not spend the provider budget.
    waitUntilAnswers(stack.sandbox, `${stack.sandboxUrl}/__admin/faults`, wait),
    waitUntilAnswers(stack.service, `${stack.serviceUrl}/health/ready`, wait),
  ]);
}

class ServiceApi {
  constructor(private readonly baseUrl: string) {}

  call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    // A timeout on every call: a hung server fails the demo instead of stalling it.
    return callApi<T>(this.baseUrl, method, path, {
      body,
      headers,
      key: ADMIN_API_KEY,
      timeoutMs: 5_000,
    });
  }
}

async function createTemplate(api: ServiceApi): Promise<void> {
  const created = expectStatus(
    'POST /v1/templates',
    await api.call<{ key: string; version: number; variables: string[] }>(
      'POST',
      '/v1/templates',
      TEMPLATE,
    ),
    201,
  );
  console.log(
    `  template ${created.key} v${created.version}, variables: ${created.variables.join(', ')}`,
  );
}

async function send(
  api: ServiceApi,
  body: Record<string, unknown>,
  idempotencyKey: string,
): Promise<AcceptedNotification> {
  const result = await api.call<AcceptedNotification>('POST', '/v1/notifications', body, {
    'idempotency-key': idempotencyKey,
  });
  return expectStatus('POST /v1/notifications', result, 202);
}

/** Sends the main notification twice with one Idempotency-Key: the replay must change nothing. */
async function sendWithReplay(api: ServiceApi, runId: string): Promise<AcceptedNotification> {
  const body = {
    template: TEMPLATE.key,
    to: IMMEDIATE.map((e) => e.to),
    variables: { name: 'Ada', order_id: 'A-1042' },
    reference: DEMO_REFERENCE,
  };
  const key = `demo-${runId}-order-1042`;
  const first = await send(api, body, key);
  console.log(`  notification ${first.id}: ${first.status}, ${first.messages.length} message(s)`);
  const replay = await send(api, body, key);
  if (replay.id !== first.id) {
    throw new Error(`Idempotent replay created notification ${replay.id} instead of ${first.id}`);
  }
  console.log(`  same request, same Idempotency-Key: same notification ${replay.id}, nothing new`);
  return first;
}

async function sendScheduled(api: ServiceApi, runId: string): Promise<AcceptedNotification> {
  const scheduledAt = new Date(Date.now() + SCHEDULE_AHEAD_MS).toISOString();
  const accepted = await send(
    api,
    {
      template: TEMPLATE.key,
      to: SCHEDULED.to,
      variables: { name: 'Grace', order_id: 'A-1043' },
      scheduled_at: scheduledAt,
      reference: 'demo-order-1043',
    },
    `demo-${runId}-order-1043`,
  );
  console.log(`  notification ${accepted.id}: ${accepted.status} for ${clockTime(scheduledAt)}`);
  return accepted;
}

/** Polls the notifications until every message has a final status. */
async function waitForFinal(api: ServiceApi, ids: string[]): Promise<NotificationView[]> {
  let latest: NotificationView[] = [];
  const final = (m: MessageView) => isTerminal(m.status);
  try {
    return await waitFor(
      async () => {
        latest = await Promise.all(
          ids.map(async (id) =>
            expectStatus(
              `GET /v1/notifications/${id}`,
              await api.call<NotificationView>('GET', `/v1/notifications/${id}`),
              200,
            ),
          ),
        );
        return latest.flatMap((n) => n.messages).every(final) ? latest : undefined;
      },
      {
        timeoutMs: FINAL_STATUS_TIMEOUT_MS,
        intervalMs: 250,
        what: 'every message to reach a final status',
      },
    );
  } catch (error) {
    const pending = latest.flatMap((n) => n.messages).filter((m) => !final(m));
    const where = pending.map((m) => `${m.to} ${m.status}`).join(', ');
    throw new Error(`${String(error)}${where ? ` (still open: ${where})` : ''}`);
  }
}

function toRows(immediate: NotificationView, scheduled: NotificationView): Row[] {
  const expectationFor = (to: string, list: Expectation[]) => {
    const found = list.find((e) => e.to === to);
    if (!found) throw new Error(`Unexpected recipient ${to} in the response`);
    return found;
  };
  return [
    ...immediate.messages.map((message) => ({
      kind: 'now' as const,
      message,
      expected: expectationFor(message.to, IMMEDIATE),
    })),
    ...scheduled.messages.map((message) => ({
      kind: 'scheduled' as const,
      message,
      expected: expectationFor(message.to, [SCHEDULED]),
    })),
  ].sort((a, b) => a.message.to.localeCompare(b.message.to));
}

/** Lag between the requested time and the provider accepting the message (SPEC: under a second). */
function scheduleLag(scheduled: NotificationView): string {
  const message = scheduled.messages[0];
  if (!scheduled.scheduled_at || !message?.queued_at) return 'n/a (never handed to the provider)';
  const lag = Date.parse(message.queued_at) - Date.parse(scheduled.scheduled_at);
  return `${lag} ms (due ${clockTime(scheduled.scheduled_at)}, handed to the provider ${clockTime(message.queued_at)})`;
}

/** GET /v1/reports/delivery for the demo's template, if this build has reports (404: skipped). */
async function printDeliveryReport(api: ServiceApi): Promise<void> {
  const result = await api.call<{ totals: DeliveryFigures }>(
    'GET',
    `/v1/reports/delivery?template=${TEMPLATE.key}`,
  );
  if (result.status === 404) {
    console.log('  (no /v1/reports/delivery in this build)');
    return;
  }
  const { totals } = expectStatus('GET /v1/reports/delivery', result, 200);
  const value = (n: number | null, unit = '') => (n === null ? '-' : `${n}${unit}`);
  for (const line of table(
    ['total', 'delivered', 'failed', 'delivery rate', 'p50', 'p95', 'segments'],
    [
      [
        String(totals.total),
        String(totals.delivered),
        String(totals.failed),
        value(totals.delivery_rate),
        value(totals.p50_delivery_seconds, ' s'),
        value(totals.p95_delivery_seconds, ' s'),
        String(totals.segments),
      ],
    ],
  )) {
    console.log(`  ${line}`);
  }
}

function printLogTails(processes: ManagedProcess[]): void {
  for (const proc of processes) {
    console.error(`\n--- last lines of ${proc.logPath ?? proc.name} ---`);
    for (const line of tailOf(proc.output(), 25)) console.error(line);
  }
}

/** The demo proper; returns the number of messages that did not end as expected. */
async function run(
  cleanup: Cleanup,
  logDir: string,
  started: number,
  processes: ManagedProcess[],
): Promise<number> {
  console.log('Preparing storage');
  const storage = await prepareStorage(cleanup);

  // Built here when missing or stale, so a fresh clone shows it without `npm run build`.
  ensureConsoleBuilt();
  const [sandboxPort, servicePort] = [await freePort(), await freePort()];
  console.log(
    `\nStarting sandbox (:${sandboxPort}) and service (:${servicePort}), logs in ${logDir}`,
  );
  const stack = startStack(logDir, cleanup, storage, sandboxPort, servicePort);
  processes.push(stack.sandbox, stack.service);
  await waitUntilReady(stack);
  const readyAt = Date.now();
  console.log(`  ready after ${seconds(readyAt - started)}`);

  const api = new ServiceApi(stack.serviceUrl);
  const runId = new Date(started).toISOString().replace(/\D/g, '');
  console.log('\nSending');
  await createTemplate(api);
  const immediate = await sendWithReplay(api, runId);
  const scheduled = await sendScheduled(api, runId);

  console.log('\nWaiting for final statuses');
  const [immediateView, scheduledView] = await waitForFinal(api, [immediate.id, scheduled.id]);
  const finishedAt = Date.now();
  const rows = toRows(immediateView, scheduledView);
  console.log('');
  for (const line of messageTable(rows)) console.log(`  ${line}`);

  const unexpected = rows.filter((row) => !meetsExpectation(row));
  console.log('\nSummary');
  console.log(`  messages:     ${rows.length} (${countByStatus(rows.map((r) => r.message))})`);
  console.log(`  as expected:  ${rows.length - unexpected.length}/${rows.length}`);
  console.log(`  schedule lag: ${scheduleLag(scheduledView)}`);
  console.log(
    `  elapsed:      ${seconds(finishedAt - started)} (start-up ${seconds(readyAt - started)}, first send to all final ${seconds(finishedAt - readyAt)})`,
  );

  console.log('\nDelivery report (order_shipped)');
  await printDeliveryReport(api);
  consoleUrl = `${stack.serviceUrl}/console/`;
  return unexpected.length;
}

/** Set once the stack is up: where its web console is. */
let consoleUrl: string | null = null;

function printConsoleHint(url: string | null): void {
  console.log('\nSee these messages in the web console');
  if (KEEP && url) {
    console.log(`  open     ${url}`);
    console.log(`  API key  ${ADMIN_API_KEY}  (the demo's admin key: every team, every page)`);
    console.log(
      `  then     Messages → search "${DEMO_REFERENCE}" or +14155550666; Overview; Operations`,
    );
  } else {
    console.log('  run `npm run demo -- --keep`: the stack stays up afterwards with the console');
    console.log('  address and a key printed, until Enter stops everything');
  }
}

/** Resolves on the first line (or the end) of standard input. */
function untilEnter(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.stdin.pause();
      resolve();
    };
    process.stdin.once('data', done);
    process.stdin.once('end', done);
    process.stdin.resume();
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  const cleanup = new Cleanup();
  const logDir = mkdtempSync(join(tmpdir(), 'notify-demo-'));
  const processes: ManagedProcess[] = [];
  let interrupted = false;

  let keeping = false;
  /** The stack was kept up and the console shown: no hint to keep it next time. */
  let kept = false;
  // Ctrl-C: the children get the SIGINT too; stop whatever is left, then leave. While --keep
  // holds the stack up, Ctrl-C is the way to end the demo, not a failure.
  const interrupt = (signal: NodeJS.Signals) => {
    interrupted = true;
    console.error(`\n${signal} received: stopping what the demo started`);
    void cleanup.run().finally(() => {
      if (keeping) console.log(`Stopped. Logs: ${logDir}`);
      process.exit(keeping ? 0 : 130);
    });
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  let failures: number;
  try {
    failures = await run(cleanup, logDir, started, processes);
  } catch (error) {
    // An interrupted run fails in all sorts of ways (its children are gone): not worth a report.
    // The signal handler is already cleaning up and exits when done; never settle meanwhile.
    if (interrupted) return new Promise<number>(() => undefined);
    console.error(`\nDemo failed: ${error instanceof Error ? error.message : String(error)}`);
    failures = -1;
  }
  // Before stopping them: what the processes said while it went wrong, not their shutdown lines.
  if (failures !== 0) printLogTails(processes);
  if (KEEP && failures >= 0 && consoleUrl) {
    printConsoleHint(consoleUrl);
    keeping = true;
    console.log(
      '\nThe stack keeps running. Press Enter to stop everything the demo started (exit 0; Ctrl-C works too, but npm then reports 130, the shell convention for an interrupt).',
    );
    // Enter (or the end of input) stops the stack; the signal handler does the same on Ctrl-C.
    await untilEnter();
    keeping = false;
    kept = true;
  }
  console.log('\nStopping');
  await cleanup.run();
  console.log(`\nLogs: ${logDir}`);
  if (failures >= 0 && !kept) printConsoleHint(null);
  if (failures === 0) {
    console.log('\nDemo finished: every message ended as expected.');
    return 0;
  }
  if (failures > 0) console.error(`\nDemo finished with ${failures} unexpected outcome(s).`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
