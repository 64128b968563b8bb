import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import {
  ADMIN_KEY,
  createTemplate,
  type Harness,
  startHarness,
  waitForFinal,
} from './support/harness';

/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against the
 * real service, sandbox, PostgreSQL and Redis. With CONSOLE_SCREENSHOTS set to a folder, each
 * page is also photographed there (docs/console/ holds the ones docs/operations.md shows).
 */
/** Debian's Chromium (scripts/test-tools.sh installs it for npm test), or CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;
/** What a page may take to show a change the API has already made (refresh and polling). */
const UI_WAIT_MS = 15_000;
/** Where quiet hours end for the deferred marketing message: 08:00 in Berlin (summer time). */
const QUIET_UNTIL = '2099-06-01T06:00:00.000Z';

describe('Web console in a browser (e2e)', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let leadKey: string;

  async function shot(name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  /** The category picker (its label's name runs on into the options' text). */
  const categoryPicker = () => page.getByRole('combobox', { name: /^Category/ });

  const go = (name: string) =>
    page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name }).click();

  async function signIn(key: string): Promise<void> {
    await page.goto(`${h.url}/console/`);
    await page.getByLabel('API key').fill(key);
    // Keyboard only: Enter submits the form.
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
  }

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'console_otp', 'Your code is {{code}}');
    const key = await h.api('POST', '/v1/api-keys', {
      body: {
        name: 'alpha-lead',
        team: 'alpha',
        scopes: ['notifications:send', 'notifications:read', 'reports:read'],
      },
    });
    leadKey = key.body.key;
    const sent = await h.api('POST', '/v1/notifications', {
      key: leadKey,
      body: {
        template: 'console_otp',
        to: ['+14155550101', '+14155550102', '+14155550666'],
        variables: { code: '2468' },
        reference: 'checkout-9',
      },
    });
    expect(sent.status).toBe(202);
    await waitForFinal(h, sent.body.id);
    // A message that failed for a reason since gone (a provider outage): resending it can work.
    await h.sql(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
         status, priority, attempts, error_code, error_message, completed_at)
       VALUES ($1, '+14155550103', 'Your code is 2468', 17, 'GSM-7', 1, 'failed', 2, 6,
         'provider_error', 'upstream 503', now())`,
      [sent.body.id],
    );
    // Two marketing messages as recipient protection leaves them, written directly so that the
    // figures and texts below are exact: one stopped by the suppression list (never sent, not a
    // failure), one moved out of the recipient's quiet hours (08:00 in Berlin is 06:00 UTC).
    const [suppressed] = await h.sql<{ id: string }>(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
         status, priority, attempts, error_code, error_message, completed_at, category)
       VALUES ($1, '+14155550201', 'Sale today', 10, 'GSM-7', 1, 'failed', 2, 0,
         'recipient_suppressed', 'The recipient is on the suppression list', now(), 'marketing')
       RETURNING id`,
      [sent.body.id],
    );
    await h.sql(
      `INSERT INTO message_events (message_id, type, status, source, details)
       VALUES ($1, 'failed', 'failed', 'api', $2)`,
      [
        suppressed.id,
        {
          error: {
            code: 'recipient_suppressed',
            message: 'The recipient is on the suppression list',
          },
        },
      ],
    );
    const [deferred] = await h.sql<{ id: string }>(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
         status, priority, scheduled_at, next_attempt_at, category)
       VALUES ($1, '+14155550202', 'Sale today', 10, 'GSM-7', 1, 'scheduled', 2,
         $2, $2, 'marketing')
       RETURNING id`,
      [sent.body.id, QUIET_UNTIL],
    );
    await h.sql(
      `INSERT INTO message_events (message_id, type, status, source, details)
       VALUES ($1, 'scheduled', 'scheduled', 'api', $2), ($1, 'deferred', 'scheduled', 'api', $3)`,
      [
        deferred.id,
        { scheduled_at: QUIET_UNTIL },
        { reason: 'quiet_hours', until: QUIET_UNTIL, timezone: 'Europe/Berlin' },
      ],
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('signs in with a key kept in sessionStorage only, refusing a wrong one', async () => {
    await page.goto(`${h.url}/console/`);
    await page.getByLabel('API key').fill('not-a-real-key-0000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();

    await signIn(leadKey);
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Overview',
      'Messages',
      'Teams',
    ]);
    expect(await page.evaluate("sessionStorage.getItem('notify-console-key')")).toBe(leadKey);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(page.url()).not.toContain(leadKey);
  });

  it('shows the messages just sent in the overview: totals, chart and its table', async () => {
    await go('Overview');
    // 4 sent through the API, the resendable failure, the suppressed and the deferred message.
    await page.getByTestId('total').filter({ hasText: '6' }).waitFor();
    expect(await page.getByTestId('delivered').textContent()).toBe('2');
    // The suppressed message is not a failure: it has its own count.
    expect(await page.getByTestId('failed').textContent()).toBe('2');
    expect(await page.getByTestId('suppressed').textContent()).toBe('1');
    const categories = page.getByRole('region', { name: 'By category' });
    await categories.getByRole('row', { name: /^marketing/ }).waitFor();
    expect(
      await categories
        .getByRole('row', { name: /^marketing/ })
        .locator('td')
        .allTextContents(),
    ).toEqual(['2', '0', '0', '0', '1', '—']);
    expect(
      await categories
        .getByRole('row', { name: /^transactional/ })
        .locator('td')
        .allTextContents(),
    ).toEqual(['4', '2', '2', '0', '0', '50.0 %']);
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
    await page.getByRole('row', { name: /undeliverable/ }).waitFor();
    await shot('overview');
    await page.getByText('The chart as a table').click();
    // The current hour's bucket is the last row: 2 delivered, 2 failed, 0 expired, 1 suppressed,
    // 50 %.
    const lastRow = page.locator('details table tbody tr').last();
    expect(await lastRow.locator('td').allTextContents()).toEqual(['2', '2', '0', '1', '50.0 %']);
    // 24 hours back from now touch 25 clock hours, each a row even when empty.
    expect(await page.locator('details table tbody tr').count()).toBe(25);
    expect(await page.getByRole('row', { name: /provider_error/ }).count()).toBe(1);

    // One category: the figures and the table follow it.
    await categoryPicker().selectOption('marketing');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText(/, category marketing\./).waitFor();
    expect(await page.getByTestId('total').textContent()).toBe('2');
    expect(await page.getByTestId('suppressed').textContent()).toBe('1');
    await categoryPicker().selectOption('');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByTestId('total').filter({ hasText: '6' }).waitFor();
  });

  it('filters messages by category, shows it in a column, and explains suppression and quiet hours', async () => {
    await go('Messages');
    await categoryPicker().selectOption('marketing');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('2 shown, newest first.').waitFor();
    expect(page.url()).toContain('category=marketing');
    const table = page.locator('table');
    const headers = await table.locator('thead th').allTextContents();
    const column = headers.indexOf('Category') + 1;
    expect(column).toBeGreaterThan(0);
    expect(await table.locator(`tbody td:nth-child(${column})`).allTextContents()).toEqual([
      'marketing',
      'marketing',
    ]);
    await categoryPicker().selectOption('otp');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No messages found.').waitFor();

    await categoryPicker().selectOption('marketing');
    await page.getByRole('button', { name: 'Search' }).click();
    await page
      .getByRole('row', { name: /recipient_suppressed/ })
      .getByRole('link')
      .click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    expect(await page.getByTestId('message-category').textContent()).toBe('marketing');
    expect(await page.getByTestId('message-expires-at').count()).toBe(1);
    expect(await page.getByTestId('protection-note').textContent()).toContain('Never sent');
    await page
      .getByRole('region', { name: 'Timeline' })
      .getByText('Suppressed: the number is on the suppression list for this category.', {
        exact: false,
      })
      .waitFor();
    await shot('message-suppressed');

    await page.goBack();
    await page
      .getByRole('row', { name: /\*\*0202/ })
      .getByRole('link')
      .click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    await page
      .getByRole('region', { name: 'Timeline' })
      .getByText('Deferred for quiet hours until 2099-06-01 06:00:00 UTC (08:00 in Europe/Berlin)')
      .waitFor();
  });

  it('finds a message by phone number and opens its timeline', async () => {
    await go('Messages');
    await page.getByLabel(/phone number/).fill('+1 415 555 0666');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('row', { name: /\+14\*\*\*\*\*0666/ });
    await row.waitFor();
    expect(await row.getByText('failed').count()).toBe(1);
    await shot('messages');
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    const types = await page
      .getByRole('region', { name: 'Timeline' })
      .locator('tbody tr td:nth-child(2)')
      .allTextContents();
    expect(types[0]).toBe('accepted');
    expect(types).toContain('failed');
    expect(await page.getByRole('button', { name: 'Resend' }).count()).toBe(1);
  });

  it('resends a failed message and follows the new one until it is delivered', async () => {
    await go('Messages');
    await page.getByLabel(/phone number/).fill('+14155550103');
    await page.getByRole('button', { name: 'Search' }).click();
    await page
      .getByRole('row', { name: /\*\*0103/ })
      .getByRole('link')
      .click();
    await page.getByRole('button', { name: 'Resend' }).click();
    await page.getByRole('button', { name: 'Resend now' }).click();
    await page.getByText('Resent as a new message.').waitFor();
    await page
      .getByTestId('message-status')
      .filter({ hasText: 'delivered' })
      .waitFor({ timeout: UI_WAIT_MS });
    expect(await page.getByText('Resend of').count()).toBe(1);
    await shot('message');
    const id = /#\/messages\/([0-9a-f-]{36})/.exec(page.url())?.[1];
    const api = await h.api('GET', `/v1/messages/${id}`, { key: leadKey });
    expect(api.body).toMatchObject({ status: 'delivered', resend_of: expect.any(String) });

    // A message's own id in the search box opens that message.
    await go('Messages');
    await page.getByLabel(/phone number/).fill(api.body.resend_of);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(`Resent as`).waitFor();
    expect(page.url()).toContain(`#/messages/${api.body.resend_of}`);
  });

  it('lets an admin pause sending with a reason and resume it', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(ADMIN_KEY);
    await go('Operations');
    await page.getByLabel('Reason for pausing').fill('Provider incident INC-7');
    await page.getByRole('button', { name: 'Pause sending' }).click();
    await page.getByTestId('pause-state').filter({ hasText: 'Provider incident INC-7' }).waitFor();
    expect((await h.api('GET', '/v1/queue')).body).toMatchObject({
      paused: true,
      note: 'Provider incident INC-7',
      paused_by: 'admin',
    });
    expect(await page.locator('meter#rate-meter').getAttribute('max')).toBe('10');
    // The one account from today's variables, sending, at its plan's limit.
    const account = page.getByTestId('account-default');
    await account.filter({ hasText: 'Sending' }).waitFor();
    expect(await account.textContent()).toContain('/ 10 per s');
    await shot('operations');

    await page.getByRole('button', { name: 'Resume sending' }).click();
    await page.getByRole('button', { name: 'Pause sending' }).waitFor();
    expect((await h.api('GET', '/v1/queue')).body.paused).toBe(false);
  });
});
