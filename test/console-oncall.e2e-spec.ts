import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import {
  ADMIN_KEY,
  createTemplate,
  type Harness,
  numbers,
  startHarness,
  waitFor,
} from './support/harness';

/** Debian's Chromium (scripts/test-tools.sh installs it for npm test), or CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** What a page may take to show a change the API has already made (its 3 s refresh). */
const UI_WAIT_MS = 15_000;
/** A folder to photograph the pages into (docs/console/ holds the ones docs/operations.md shows). */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;

/**
 * The console for the on-call engineer while the provider fails every send (issue #22 item 4):
 * Operations names the provider as failing, with the messages in retry and the oldest age; a
 * bulk resend counts first and asks; a single resend asks too. Real browser, real stack.
 */
describe('Console on call during a provider outage (e2e)', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let notificationId: string;
  const waiting = numbers(7300, 3);

  /** A failed message of the notification as a past outage left it. */
  async function failed(to: string): Promise<string> {
    const [row] = await h.sql<{ id: string }>(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
         status, priority, attempts, error_code, error_message, completed_at)
       VALUES ($1, $2, 'Your code is 5150', 17, 'GSM-7', 1, 'failed', 2, 6,
         'server_error', 'upstream 500', now())
       RETURNING id`,
      [notificationId, to],
    );
    return row.id;
  }

  const resendsOf = async (ids: string[]) =>
    h.sql<{ resend_of: string; requested_by: string | null }>(
      `SELECT m.resend_of, e.details ->> 'requested_by' AS requested_by
       FROM messages m JOIN message_events e ON e.message_id = m.id AND e.type = 'accepted'
       WHERE m.resend_of = ANY($1::uuid[]) ORDER BY m.resend_of`,
      [ids],
    );

  beforeAll(async () => {
    h = await startHarness({
      env: { SEND_RETRY_BASE_MS: '1000', SMS_PROVIDER_CIRCUIT_MAX_OPEN_MS: '1000' },
    });
    await createTemplate(h, 'oncall_otp', 'Your code is {{code}}');
    await h.sandboxAdmin('POST', '/faults', { error_rate: 1, scope: 'send' });
    const accepted = await h.api('POST', '/v1/notifications', {
      body: { template: 'oncall_otp', to: waiting, variables: { code: '5150' } },
    });
    expect(accepted.status).toBe(202);
    notificationId = accepted.body.id;
    // The outage as the API sees it before the page is opened: the account's circuit open.
    await waitFor(
      async () => {
        const [account] = (await h.api('GET', '/v1/queue')).body.accounts;
        return account.health === 'failing' && account.circuit.state !== 'closed' ? true : null;
      },
      { what: 'the default account failing', timeoutMs: 30_000 },
    );
    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await browser.newPage();
    await page.goto(`${h.url}/console/`);
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  async function shot(name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  const go = (name: string) =>
    page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name }).click();

  it('says plainly that the provider is failing, with messages in retry and the oldest age', async () => {
    await go('Operations');
    const banner = page.getByTestId('provider-failing');
    await banner.filter({ hasText: 'The provider is failing' }).waitFor({ timeout: UI_WAIT_MS });
    expect(await banner.textContent()).toMatch(/account default: 100\.0 % of \d+ calls failed/);
    expect(await banner.textContent()).toContain('last error server_error');
    // Not "Sending": nothing goes out although no one paused.
    expect(await page.getByTestId('pause-state').textContent()).toContain(
      'Not paused: but the provider is failing, nothing goes out',
    );
    const account = page.getByTestId('account-default');
    expect(await account.textContent()).toMatch(
      /Failing, (paused|probing): the provider is failing/,
    );
    expect(await page.getByTestId('errors-default').textContent()).toMatch(
      /^100\.0 % \(\d+ of \d+\)$/,
    );
    await page.getByTestId('in-retry').filter({ hasText: /^3$/ }).waitFor({ timeout: UI_WAIT_MS });
    // The oldest waits since it was accepted: it grows across refreshes, back-offs or not.
    const [{ ago }] = await h.sql<{ ago: number }>(
      `SELECT extract(epoch FROM now() - min(submitted_at))::float8 AS ago FROM messages
       WHERE notification_id = $1`,
      [notificationId],
    );
    const shown = async () => {
      const text = (await page.getByTestId('oldest-unsent').textContent()) ?? '';
      const m = /^(?:(\d+) min )?(\d+) s$/.exec(text);
      return m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : null;
    };
    const first = await waitFor(
      async () => {
        const seconds = await shown();
        return seconds !== null && seconds >= Math.floor(ago) ? seconds : null;
      },
      { what: 'the oldest age shown', timeoutMs: UI_WAIT_MS },
    );
    await waitFor(async () => ((await shown()) ?? 0) > first, {
      what: 'the oldest age to grow',
      timeoutMs: UI_WAIT_MS,
    });
    await shot('operations-provider-failing');
  });

  it('resends in bulk after a dry-run count and a confirmation, as the key that asked', async () => {
    const ids = [];
    for (const to of numbers(7400, 4)) ids.push(await failed(to));
    await go('Messages');
    const bulk = page.getByRole('region', { name: 'Resend in bulk' });
    await bulk.getByLabel('Template key').fill('oncall_otp');
    await bulk.getByLabel('Error code').fill('server_error');
    await bulk.getByRole('button', { name: 'Count matching messages' }).click();
    await page.getByTestId('resend-count').filter({ hasText: '4 messages match' }).waitFor();
    // The count sent nothing.
    expect(await resendsOf(ids)).toEqual([]);

    // A changed filter withdraws the count: the confirmation is for what was counted.
    await bulk.getByLabel('Error code').fill('timeout');
    expect(await page.getByRole('button', { name: /^Resend \d+ messages$/ }).count()).toBe(0);
    await bulk.getByLabel('Error code').fill('server_error');
    await bulk.getByRole('button', { name: 'Count matching messages' }).click();
    await shot('messages-bulk-resend');
    await page.getByRole('button', { name: 'Resend 4 messages' }).click();
    await page.getByText('Resent 4 messages.').waitFor();
    const resent = await resendsOf(ids);
    expect(resent.map((r) => r.resend_of)).toEqual([...ids].sort());
    expect(resent.map((r) => r.requested_by)).toEqual(ids.map(() => 'admin'));
  });

  it('asks before resending one message, and Cancel resends nothing', async () => {
    const id = await failed('+14155557500');
    await page.goto(`${h.url}/console/#/messages/${id}`);
    await page.getByRole('button', { name: 'Resend' }).click();
    const question = page.getByRole('group', { name: /Send this message to \+14\*+7500 again\?/ });
    await question.waitFor();
    await question.getByRole('button', { name: 'Cancel' }).click();
    expect(await resendsOf([id])).toEqual([]);

    await page.getByRole('button', { name: 'Resend' }).click();
    await page.getByRole('button', { name: 'Resend now' }).click();
    await page.getByText('Resent as a new message.').waitFor();
    expect(await resendsOf([id])).toEqual([{ resend_of: id, requested_by: 'admin' }]);
  });
});
