import { setTimeout as delay } from 'node:timers/promises';
import { type RunningSandbox, startSandbox } from '../apps/sms-provider-sandbox/src/bootstrap';
import {
  callApi,
  deleteRedisKeys,
  freePort,
  type OwnPostgres,
  stackKeysPattern,
  startPostgresServer,
  waitFor,
} from '../tools/stack';
import { ADMIN_KEY, SANDBOX_DEFAULTS, SANDBOX_KEY } from './support/harness';
import { sendsPerRecipient } from './support/provider-log';
import { type ServiceProcess, spawnService } from './support/service-process';
import { REDIS_URL, redisPrefix } from './support/test-env';

const OUTAGE_MS = 10_000;
const RECIPIENTS = Array.from({ length: 40 }, (_, i) => `+1415555${String(7200 + i)}`);

type Final = { messages: { status: string }[] };

/**
 * The service's own PostgreSQL stopped for 10 s mid-backlog (a fast shutdown: every session cut),
 * then started again. Its own server, so stopping it touches nobody else's.
 */
describe('PostgreSQL stopped for 10 s (e2e, a PostgreSQL of its own)', () => {
  let pg: OwnPostgres;
  let sandbox: RunningSandbox;
  let service: ServiceProcess;
  const queuePrefix = `${redisPrefix()}-pg-outage`;

  beforeAll(async () => {
    pg = await startPostgresServer();
    sandbox = await startSandbox(SANDBOX_DEFAULTS);
    const port = await freePort();
    service = await spawnService({
      PORT: String(port),
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pg.port}/notify_outage`,
      REDIS_URL,
      QUEUE_PREFIX: queuePrefix,
      SMS_PROVIDER_BASE_URL: sandbox.url,
      SMS_PROVIDER_API_KEY: SANDBOX_KEY,
      SMS_PROVIDER_WEBHOOK_SECRET: sandbox.config.webhookSecret,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      ADMIN_API_KEY: ADMIN_KEY,
      SWEEP_INTERVAL_MS: '500',
      SEND_RETRY_BASE_MS: '100',
      SEND_RETRY_MAX_MS: '1000',
      // The provider gives up on webhooks our receiver refused while the database was down; the
      // poller finds those messages once they have had no news for this long (60 s by default).
      RECONCILE_STALE_AFTER_MS: '2000',
      RECONCILE_INTERVAL_MS: '500',
    });
  });

  afterAll(async () => {
    await service?.kill('SIGTERM');
    await sandbox?.close();
    await pg?.stop();
    await deleteRedisKeys(REDIS_URL, stackKeysPattern(queuePrefix));
  });

  const api = <T = any>(method: string, path: string, body?: unknown, headers = {}) =>
    callApi<T>(service.url, method, path, { key: ADMIN_KEY, body, headers });

  it('answers 503 with Retry-After at once, is not ready, and delivers everything once after', async () => {
    expect(
      (await api('POST', '/v1/templates', { key: 'pg_outage', body: 'Code {{c}}' })).status,
    ).toBe(201);
    const backlog = await api('POST', '/v1/notifications', {
      template: 'pg_outage',
      to: RECIPIENTS,
      variables: { c: 7 },
    });
    expect(backlog.status).toBe(202);
    // Mid-backlog: some sent, most still to go (10 per second).
    await waitFor(
      async () =>
        (await callApi<unknown[]>(sandbox.adminUrl, 'GET', '/messages')).body.length >= 5
          ? true
          : null,
      { what: 'the backlog to be under way' },
    );

    pg.pause();
    const stoppedAt = Date.now();
    const refused = await api(
      'POST',
      '/v1/notifications',
      { template: 'pg_outage', to: '+14155557300', variables: { c: 8 } },
      { 'idempotency-key': 'during-the-outage' },
    );
    const refusedInMs = Date.now() - stoppedAt;
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ success: false, error: { code: 'database_unavailable' } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const ready = await callApi<any>(service.url, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.details.database.status).toBe('down');

    // The outage's length is the scenario, not a wait for something to happen.
    await delay(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
    await pg.resume();
    const resumedAt = Date.now();

    const final = await waitFor(
      async () => {
        const res = await api<Final>('GET', `/v1/notifications/${backlog.body.id}`);
        return res.status === 200 && res.body.messages.every((m) => m.status === 'delivered')
          ? res.body
          : null;
      },
      { what: 'the whole backlog delivered', timeoutMs: 40_000, intervalMs: 200 },
    ).catch(async (error: unknown) => {
      const res = await api<Final & { messages: { status: string; events?: unknown }[] }>(
        'GET',
        `/v1/notifications/${backlog.body.id}`,
      );
      const stuck = res.body.messages?.filter((m) => m.status !== 'delivered') ?? res.body;
      throw new Error(
        `${String(error)}\n${JSON.stringify(stuck, null, 1).slice(0, 4000)}\n${service.output().slice(-6000)}`,
      );
    });
    expect(final.messages).toHaveLength(RECIPIENTS.length);
    process.stdout.write(
      `postgres outage: 503 in ${refusedInMs} ms, backlog delivered ${Date.now() - resumedAt} ms after PostgreSQL returned\n`,
    );

    // The caller that got the 503 tries again with its key: one notification, delivered.
    const retried = await api(
      'POST',
      '/v1/notifications',
      { template: 'pg_outage', to: '+14155557300', variables: { c: 8 } },
      { 'idempotency-key': 'during-the-outage' },
    );
    expect(retried.status).toBe(202);
    await waitFor(
      async () => {
        const res = await api<Final>('GET', `/v1/notifications/${retried.body.id}`);
        return res.body.messages?.[0]?.status === 'delivered' || null;
      },
      { what: 'the retried notification delivered' },
    );

    // Each recipient exactly once at the provider: nothing lost, nothing sent twice.
    const counts = await sendsPerRecipient(sandbox.adminUrl);
    expect([...RECIPIENTS, '+14155557300'].map((to) => counts.get(to))).toEqual(
      [...RECIPIENTS, '+14155557300'].map(() => 1),
    );
  }, 120_000);
});
