import { setTimeout as delay } from 'node:timers/promises';
import { type RunningSandbox, startSandbox } from '../apps/sms-provider-sandbox/src/bootstrap';
import {
  createTemplate,
  freePort,
  type Harness,
  numbers,
  SANDBOX_DEFAULTS,
  SANDBOX_KEY,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';
import { crowdedSeconds, type LoggedRequest, sendsPerRecipient } from './support/provider-log';

/** The harness's sandbox on a port chosen here, so it can come back on the same address. */
const sandboxSettings = (port: number) => ({ ...SANDBOX_DEFAULTS, port });

describe('Provider outages (e2e)', () => {
  let h: Harness | undefined;
  let provider: RunningSandbox | undefined;
  afterEach(async () => {
    await h?.close();
    await provider?.close();
    h = undefined;
    provider = undefined;
  });

  it('refusing connections for 30 s: nothing fails, everything is delivered once after', async () => {
    const port = await freePort();
    provider = await startSandbox(sandboxSettings(port));
    h = await startHarness({ sandbox: provider });
    await createTemplate(h, 'outage', 'Your code is {{code}}');
    await provider.close();
    provider = undefined;
    const outageStarted = Date.now();

    const recipients = numbers(6100, 20);
    const accepted = await h.api('POST', '/v1/notifications', {
      body: { template: 'outage', to: recipients, variables: { code: '4242' } },
    });
    expect(accepted.status).toBe(202);
    // Every message has found the provider unreachable at least twice: it is being retried, and
    // none of those tries counted as an attempt.
    await waitFor(
      async () => {
        const [row] = await h!.sql<{ ready: boolean }>(
          `SELECT count(*) FILTER (WHERE tries >= 2) = $1 AS ready FROM (
             SELECT m.id, count(e.*) AS tries FROM messages m
             LEFT JOIN message_events e ON e.message_id = m.id AND e.type = 'provider_unreachable'
             WHERE m.notification_id = $2 GROUP BY m.id) t`,
          [recipients.length, accepted.body.id],
        );
        return row.ready || null;
      },
      { what: 'every message to meet the closed port twice', timeoutMs: 20_000 },
    );
    // The outage's length is the scenario, not a wait for something to happen.
    await delay(Math.max(0, 30_000 - (Date.now() - outageStarted)));
    const during = await h.sql<{ status: string }>(
      'SELECT status FROM messages WHERE notification_id = $1',
      [accepted.body.id],
    );
    expect(during.filter((m) => m.status === 'failed')).toEqual([]);
    // And no try counted as an attempt (a message mid-try holds one until it gives it back).
    const attempts = await h.sql(
      `SELECT e.type FROM message_events e JOIN messages m ON m.id = e.message_id
       WHERE m.notification_id = $1 AND e.type = 'attempt_failed'`,
      [accepted.body.id],
    );
    expect(attempts).toEqual([]);

    // Back on the same address: the service has the old one's URL.
    provider = await startSandbox(sandboxSettings(port));
    const final = await waitForFinal(h, accepted.body.id, 30_000);
    expect(final.messages.map((m: { status: string }) => m.status)).toEqual(
      recipients.map(() => 'delivered'),
    );
    const taken = await sendsPerRecipient(h.sandbox.adminUrl);
    expect(recipients.map((to) => taken.get(to))).toEqual(recipients.map(() => 1));
  }, 90_000);

  it('answering 30% 500s and 10% 429s: all delivered, none twice, never over the limit', async () => {
    // Each message gets up to 20 attempts: at 30% server errors, six (the default) would leave
    // about one message in 1,400 failed (12 still fail one run in ~30,000), and this test is
    // about what is sent, not about giving up.
    h = await startHarness({ env: { SEND_MAX_ATTEMPTS: '20' } });
    await createTemplate(h, 'flaky', 'Your code is {{code}}');
    await h.sandboxAdmin('POST', '/faults', { error_rate: 0.3, rate_limit_rate: 0.1 });
    const since = Date.now();

    const recipients = numbers(6200, 60);
    const accepted = await h.api('POST', '/v1/notifications', {
      body: { template: 'flaky', to: recipients, variables: { code: '1234' } },
    });
    expect(accepted.status).toBe(202);
    const final = await waitForFinal(h, accepted.body.id, 90_000);
    expect(final.messages.map((m: { status: string }) => m.status)).toEqual(
      recipients.map(() => 'delivered'),
    );

    const log: LoggedRequest[] = await h.sandboxAdmin(
      'GET',
      `/requests?since=${since}&key=${SANDBOX_KEY}`,
    );
    // Exactly one message each at the provider: what it refused (500, 429) it did not send.
    const taken = await sendsPerRecipient(h.sandbox.adminUrl);
    expect(recipients.map((to) => taken.get(to))).toEqual(recipients.map(() => 1));
    expect(log.filter((r) => r.status === 500).length).toBeGreaterThan(0);
    expect(log.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    // Every request counts against the limit, the refused ones included.
    expect(crowdedSeconds(log, 10)).toEqual([]);
  }, 120_000);
});
