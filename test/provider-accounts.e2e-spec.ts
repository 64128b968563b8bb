import { generateTestWebhook } from '@app/sms-provider';
import { type RunningSandbox, startSandbox } from '../apps/sms-provider-sandbox/src/bootstrap';
import {
  createTemplate,
  type Harness,
  numbers,
  SANDBOX_DEFAULTS,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';
import { sandboxAdmin } from '../tools/stack';

const KEY_A = 'sk_test_account_a';
const KEY_B = 'sk_test_account_b';

interface AccountSeed {
  name: string;
  base_url: string;
  api_key: string;
  plan: 'standard' | 'enterprise';
  webhook_secret: string;
  categories?: string[];
  teams?: string[];
}

function account(name: string, sandbox: RunningSandbox, apiKey: string): AccountSeed {
  return {
    name,
    base_url: sandbox.url,
    api_key: apiKey,
    plan: 'standard',
    webhook_secret: sandbox.config.webhookSecret,
  };
}

/** What each key's account took at a sandbox, by recipient. */
async function takenBy(sandbox: RunningSandbox, key: string): Promise<string[]> {
  const messages = await sandboxAdmin<{ to: string }[]>(
    sandbox.adminUrl,
    'GET',
    `/messages?key=${key}`,
  );
  return messages.map((m) => m.to);
}

interface MessageRow {
  status: string;
  provider_account: string | null;
  to: string;
  attempts: number;
}

async function send(h: Harness, template: string, to: string[]): Promise<string> {
  const accepted = await h.api('POST', '/v1/notifications', {
    body: { template, to, variables: { code: '2468' } },
  });
  expect(accepted.status).toBe(202);
  return accepted.body.id as string;
}

async function attemptEvents(h: Harness, notificationId: string): Promise<string[]> {
  const rows = await h.sql<{ type: string }>(
    `SELECT e.type FROM message_events e JOIN messages m ON m.id = e.message_id
     WHERE m.notification_id = $1 AND e.type = 'attempt_failed'`,
    [notificationId],
  );
  return rows.map((r) => r.type);
}

describe('Several provider accounts (e2e)', () => {
  let h: Harness | undefined;
  const sandboxes: RunningSandbox[] = [];
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await Promise.all(sandboxes.splice(0).map((s) => s.close()));
  });

  async function sandbox(apiKeys: string): Promise<RunningSandbox> {
    const started = await startSandbox({ ...SANDBOX_DEFAULTS, apiKeys });
    sandboxes.push(started);
    return started;
  }

  it('moves to the next account when the first runs out of credits mid-backlog: nothing failed, nothing twice', async () => {
    const provider = await sandbox(`${KEY_A}:standard:5,${KEY_B}:standard:1000000`);
    h = await startHarness({
      sandbox: provider,
      env: {
        SMS_PROVIDER_ACCOUNTS: JSON.stringify([
          account('primary', provider, KEY_A),
          account('backup', provider, KEY_B),
        ]),
        // One recipient per request, so the first account takes exactly its 5 credits' worth.
        SEND_BATCH_MAX: '1',
      },
    });
    await createTemplate(h, 'credits', 'Your code is {{code}}');
    const recipients = numbers(7100, 20);
    const id = await send(h, 'credits', recipients);

    const final = await waitForFinal(h, id, 30_000);
    const messages = final.messages as MessageRow[];
    expect(messages.map((m) => m.status)).toEqual(recipients.map(() => 'delivered'));
    const viaPrimary = await takenBy(provider, KEY_A);
    const viaBackup = await takenBy(provider, KEY_B);
    expect(viaPrimary).toHaveLength(5);
    // Every recipient exactly once, across both accounts.
    expect([...viaPrimary, ...viaBackup].sort()).toEqual([...recipients].sort());
    // Each message names the account that took it.
    for (const m of messages) {
      expect(m.provider_account).toBe(viaPrimary.includes(m.to) ? 'primary' : 'backup');
    }
    expect(await attemptEvents(h, id)).toEqual([]);

    // Operators see why the first account takes nothing, and sending as a whole is not paused.
    const queue = await h.api('GET', '/v1/queue');
    expect(queue.body.paused).toBe(false);
    expect(queue.body.accounts.map((a: { name: string }) => a.name)).toEqual(['primary', 'backup']);
    expect(queue.body.accounts[0].circuit).toMatchObject({
      reason: 'insufficient_credits',
      last_error: 'insufficient_credits',
    });
    expect(queue.body.accounts[1].circuit.state).toBe('closed');
  }, 60_000);

  it('moves to the next account when the first refuses our key', async () => {
    const provider = await sandbox(`${KEY_B}:standard:1000000`);
    h = await startHarness({
      sandbox: provider,
      env: {
        SMS_PROVIDER_ACCOUNTS: JSON.stringify([
          account('revoked', provider, 'sk_test_revoked'),
          account('backup', provider, KEY_B),
        ]),
      },
    });
    await createTemplate(h, 'keys', 'Your code is {{code}}');
    const recipients = numbers(7200, 10);
    const id = await send(h, 'keys', recipients);

    const final = await waitForFinal(h, id, 30_000);
    const messages = final.messages as MessageRow[];
    expect(messages.map((m) => [m.status, m.provider_account])).toEqual(
      recipients.map(() => ['delivered', 'backup']),
    );
    expect((await takenBy(provider, KEY_B)).sort()).toEqual([...recipients].sort());
    expect(await attemptEvents(h, id)).toEqual([]);
    const queue = await h.api('GET', '/v1/queue');
    // Held back for the refusal: open, or half-open once CREDITS_CHECK_INTERVAL_MS (500 ms in the
    // harness) has passed since, which a loaded machine reaches before this read.
    const { state, reason } = queue.body.accounts[0].circuit;
    expect([reason, ['open', 'half_open'].includes(state)]).toEqual([
      'authentication_failed',
      true,
    ]);
    // Each account's own answer, by name; the default is the first one here.
    const backup = await h.api('GET', '/v1/account?account=backup');
    expect(backup.status).toBe(200);
    expect(backup.body.credits_remaining).toBe(1_000_000 - recipients.length);
    const refused = await h.api('GET', '/v1/account');
    expect(refused.status).toBe(503);
    expect(refused.body.error.details).toEqual({ provider_code: 'authentication_failed' });
    const unknown = await h.api('GET', '/v1/account?account=nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('provider_account_not_found');
  }, 60_000);

  it('opens the circuit of an account whose provider fails every call and sends through the next; closes it when it answers again', async () => {
    const failing = await sandbox(`${KEY_A}:standard:1000000`);
    const healthy = await sandbox(`${KEY_B}:standard:1000000`);
    await sandboxAdmin(failing.adminUrl, 'POST', '/faults', { error_rate: 1 });
    h = await startHarness({
      sandbox: healthy,
      env: {
        SMS_PROVIDER_ACCOUNTS: JSON.stringify([
          account('primary', failing, KEY_A),
          account('backup', healthy, KEY_B),
        ]),
        SMS_PROVIDER_CIRCUIT_MAX_OPEN_MS: '2000',
      },
    });
    await createTemplate(h, 'circuit', 'Your code is {{code}}');
    const recipients = numbers(7300, 20);
    const id = await send(h, 'circuit', recipients);

    const final = await waitForFinal(h, id, 30_000);
    const messages = final.messages as MessageRow[];
    expect(messages.map((m) => [m.status, m.provider_account])).toEqual(
      recipients.map(() => ['delivered', 'backup']),
    );
    // The 500s were the provider failing, not the messages: no attempt was spent on them.
    expect(messages.map((m) => m.attempts)).toEqual(recipients.map(() => 1));
    expect(await attemptEvents(h, id)).toEqual([]);
    expect(await takenBy(failing, KEY_A)).toEqual([]);
    expect((await takenBy(healthy, KEY_B)).sort()).toEqual([...recipients].sort());

    const queue = await h.api('GET', '/v1/queue');
    expect(queue.body.accounts[0].circuit).toMatchObject({
      reason: 'provider_failing',
      last_error: 'server_error',
    });
    expect(['open', 'half_open']).toContain(queue.body.accounts[0].circuit.state);
    const metrics = (await h.api('GET', '/metrics', { key: null })).text;
    expect(metrics).toMatch(/notify_provider_circuit_state\{account="primary"\} [12]/);
    expect(metrics).toMatch(/notify_provider_circuit_state\{account="backup"\} 0/);

    // The provider answers again: a send after the open period is the probe that closes the
    // circuit, and the first account takes messages again (probes only go with real traffic).
    await sandboxAdmin(failing.adminUrl, 'POST', '/faults', { error_rate: 0 });
    let n = 0;
    const through = await waitFor(
      async () => {
        const laterId = await send(h!, 'circuit', numbers(7420 + n++, 1));
        const [message] = (await waitForFinal(h!, laterId, 10_000)).messages as MessageRow[];
        expect([message.status, (message as { error?: unknown }).error]).toEqual([
          'delivered',
          null,
        ]);
        return message.provider_account === 'primary' || null;
      },
      { what: 'a message through the primary account again', timeoutMs: 20_000 },
    );
    expect(through).toBe(true);
    const closed = await h.api('GET', '/v1/queue');
    expect(closed.body.accounts[0].circuit).toMatchObject({ state: 'closed', reason: null });
  }, 90_000);

  it('routes by category: the first account whose categories match takes the message', async () => {
    const provider = await sandbox(`${KEY_A}:standard:1000000,${KEY_B}:standard:1000000`);
    h = await startHarness({
      sandbox: provider,
      env: {
        SMS_PROVIDER_ACCOUNTS: JSON.stringify([
          { ...account('otp-route', provider, KEY_A), categories: ['otp'] },
          account('bulk', provider, KEY_B),
        ]),
      },
    });
    await createTemplate(h, 'plain', 'Your order {{code}} shipped');
    const recipients = numbers(7500, 3);
    const id = await send(h, 'plain', recipients);
    const final = await waitForFinal(h, id, 30_000);
    // A transactional template: the otp-only account does not match it.
    expect((final.messages as MessageRow[]).map((m) => m.provider_account)).toEqual(
      recipients.map(() => 'bulk'),
    );
    expect(await takenBy(provider, KEY_A)).toEqual([]);
  }, 60_000);

  it("verifies each account's webhooks with that account's secret", async () => {
    const provider = await sandbox(`${KEY_A}:standard:1000000,${KEY_B}:standard:1000000`);
    const secretA = 'whsec_account_a_0123456789';
    const secretB = 'whsec_account_b_0123456789';
    h = await startHarness({
      sandbox: provider,
      env: {
        SMS_PROVIDER_ACCOUNTS: JSON.stringify([
          { ...account('alpha', provider, KEY_A), webhook_secret: secretA },
          { ...account('beta', provider, KEY_B), webhook_secret: secretB },
        ]),
      },
    });
    const event = {
      event: 'message.delivered',
      message_id: 'msg_not_ours_1',
      status: 'delivered',
      timestamp: Math.floor(Date.now() / 1000),
    };
    const post = (path: string, secret: string) => {
      const signed = generateTestWebhook(event, secret);
      return h!.api('POST', path, { rawBody: signed.body, headers: signed.headers, key: null });
    };

    expect((await post('/v1/webhooks/provider/beta', secretB)).status).toBe(200);
    const wrong = await post('/v1/webhooks/provider/beta', secretA);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_signature');
    expect((await post('/v1/webhooks/provider/alpha', secretA)).status).toBe(200);
    expect((await post('/v1/webhooks/provider/alpha', secretB)).status).toBe(401);
    // The path from before accounts belongs to the first account (none is named default).
    expect((await post('/v1/webhooks/sms-provider', secretA)).status).toBe(200);
    expect((await post('/v1/webhooks/sms-provider', secretB)).status).toBe(401);
    const unknown = await post('/v1/webhooks/provider/gamma', secretA);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('provider_account_not_found');
    // An unsigned request is refused before its body is read, at the account paths too.
    const unsigned = await h.api('POST', '/v1/webhooks/provider/beta', {
      rawBody: JSON.stringify(event),
      headers: { 'content-type': 'application/json' },
      key: null,
    });
    expect(unsigned.status).toBe(401);
  }, 60_000);
});
