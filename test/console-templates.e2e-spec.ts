import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createTemplate, type Harness, startHarness } from './support/harness';

/** Debian's Chromium (scripts/test-tools.sh installs it for npm test), or CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;
/** What a page may take to show a change (a live preview after typing, a test message delivered). */
const UI_WAIT_MS = 15_000;

/**
 * 115 characters with one ’: UCS-2, 2 segments; with a straight ' it is GSM-7 and 1 segment.
 * `{{name}}` is filled with Ada in the preview.
 */
const BODY =
  'Hi {{name}}, your order is on its way and it’s due tomorrow between 9 and 5. Track it any time in the app or reply STOP.';
const SHORTER = 'Hi {{name}}, your order ships today.';

/**
 * The console's Templates page in a real browser against the real service, as an ops person of
 * one team uses it: create a template with a live preview that names what makes it cost more,
 * change it in a draft (test-sent, then published), compare versions, roll back.
 */
describe('Web console: templates (e2e)', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let opsKey: string;

  async function shot(name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  const nav = () => page.getByRole('navigation', { name: 'Console' });
  const preview = () => page.getByRole('region', { name: 'Preview' });

  beforeAll(async () => {
    h = await startHarness();
    // Another team's template and a shared one: the list shows what the key may see.
    await createTemplate(h, 'welcome_offer', 'Welcome! 10% off today.', {
      category: 'marketing',
    });
    await createTemplate(h, 'other_team_otp', 'Code {{code}}', {
      owner_team: 'payments',
      category: 'otp',
    });
    const res = await h.api('POST', '/v1/api-keys', {
      body: {
        name: 'checkout-ops',
        team: 'checkout',
        scopes: ['templates:read', 'templates:write', 'notifications:send', 'notifications:read'],
      },
    });
    expect(res.status).toBe(201);
    opsKey = res.body.key;
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

  it('signs in and creates a template, warned that ’ doubles its cost', async () => {
    await page.goto(`${h.url}/console/`);
    await page.getByLabel('API key').fill(opsKey);
    await page.getByLabel('API key').press('Enter');
    await nav().getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('heading', { level: 1, name: 'Templates' }).waitFor();
    await page.waitForFunction("document.title === 'Templates · Notification console'");
    await page.getByRole('link', { name: 'New template' }).click();
    await page.getByRole('heading', { level: 1, name: 'New template' }).waitFor();

    await page.getByLabel('Key', { exact: true }).fill('order_shipped');
    await page.getByLabel('Body').fill(BODY);
    // The sample value's input appears once the preview has found the variable.
    await page.getByLabel('name', { exact: true }).fill('Ada');
    await preview()
      .getByTestId('preview-text')
      .filter({ hasText: /^Hi Ada, your order/ })
      .waitFor({ timeout: UI_WAIT_MS });
    expect(await preview().getByTestId('preview-encoding').textContent()).toBe('UCS-2');
    expect(await preview().getByTestId('preview-segments').textContent()).toBe('2');
    expect(await preview().getByTestId('preview-credits').textContent()).toBe('2');
    expect(await preview().getByTestId('preview-characters').textContent()).toBe('115');
    const warning = await preview().getByTestId('cost-warning').textContent();
    expect(warning).toContain('’ (U+2019) forces UCS-2');
    expect(warning).toContain('2 segments per recipient instead of 1');
    expect(warning).toContain('Smart encoding would replace ’');
    await shot('templates-new');

    // Smart encoding: the preview shows the replacement and the cost falls to one segment.
    await page.getByLabel(/Smart encoding/).check();
    await preview()
      .getByTestId('preview-encoding')
      .filter({ hasText: 'GSM-7' })
      .waitFor({ timeout: UI_WAIT_MS });
    expect(await preview().getByTestId('smart-replaced').textContent()).toBe(
      "Smart encoding replaced ’ with ' (1×).",
    );
    expect(await preview().getByTestId('preview-segments').textContent()).toBe('1');
    expect(await preview().getByTestId('cost-warning').count()).toBe(0);
    await page.getByLabel(/Smart encoding/).uncheck();
    await preview()
      .getByTestId('preview-encoding')
      .filter({ hasText: 'UCS-2' })
      .waitFor({ timeout: UI_WAIT_MS });

    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByRole('heading', { level: 1, name: 'Template order_shipped' }).waitFor();
    expect(await page.getByTestId('live-version').textContent()).toBe('1');
    const stored = await h.api('GET', '/v1/templates/order_shipped', { key: opsKey });
    expect(stored.body).toMatchObject({
      version: 1,
      body: BODY,
      owner_team: 'checkout',
      smart_encoding: false,
      warnings: [{ code: 'forces_ucs2', characters: ['’'] }],
    });
  });

  it('changes it in a draft that callers never see, test-sends the draft until delivered, then publishes it', async () => {
    await page.getByRole('button', { name: 'Edit in a draft' }).click();
    await page.getByLabel('Body').fill(SHORTER);
    await page.getByLabel('name', { exact: true }).fill('Ada');
    await preview()
      .getByTestId('preview-text')
      .filter({ hasText: 'Hi Ada, your order ships today.' })
      .waitFor({ timeout: UI_WAIT_MS });
    expect(await page.getByRole('button', { name: 'Publish draft' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page
      .getByText('Draft saved (based on version 1). Callers still get version 1.')
      .waitFor();
    expect((await h.api('GET', '/v1/templates/order_shipped', { key: opsKey })).body.body).toBe(
      BODY,
    );

    await page.getByLabel('Phone number (E.164)').fill('+1 415 555 0100');
    await page.getByRole('button', { name: 'Send a test of the draft' }).click();
    await page
      .getByTestId('test-status')
      .filter({ hasText: 'delivered' })
      .waitFor({ timeout: UI_WAIT_MS });
    await shot('template');
    // The test is a real message of the draft's text, marked as a test on its timeline.
    const href = await page.getByRole('link', { name: 'Open its timeline' }).getAttribute('href');
    const id = /#\/messages\/([0-9a-f-]{36})$/.exec(href ?? '')?.[1];
    const message = await h.api('GET', `/v1/messages/${id}`, { key: opsKey });
    expect(message.body).toMatchObject({ status: 'delivered', to: '+14*****0100' });
    expect(message.body.events[0]).toMatchObject({ type: 'accepted', details: { test: true } });
    const notification = await h.api('GET', `/v1/notifications/${message.body.notification_id}`, {
      key: opsKey,
    });
    expect(notification.body.test).toBe(true);

    await page.getByRole('button', { name: 'Publish draft' }).click();
    await page.getByText('Published as version 2: new notifications use it now.').waitFor();
    expect(await page.getByTestId('live-version').textContent()).toBe('2');
    expect((await h.api('GET', '/v1/templates/order_shipped', { key: opsKey })).body).toMatchObject(
      { version: 2, body: SHORTER },
    );
    expect(await page.getByRole('button', { name: 'Edit in a draft' }).count()).toBe(1);
  });

  it('compares two versions and rolls back to the first after a confirmation', async () => {
    await page.getByLabel('From version', { exact: true }).selectOption('1');
    await page.getByLabel('To version', { exact: true }).selectOption('2');
    await page.getByRole('button', { name: 'Compare' }).click();
    const diff = page.getByTestId('diff');
    await diff.waitFor();
    // Read as removed, kept and added runs: kept and removed make version 1, kept and added 2.
    const runs = await diff
      .locator('.diff > *')
      .evaluateAll((parts) => parts.map((p) => [p.tagName.toLowerCase(), p.textContent ?? '']));
    const side = (drop: string) =>
      runs
        .filter(([tag]) => tag !== drop)
        .map(([, text]) => text)
        .join('');
    expect(side('ins')).toBe(BODY);
    expect(side('del')).toBe(SHORTER);
    expect(
      runs
        .filter(([tag]) => tag === 'del')
        .map(([, t]) => t)
        .join(' '),
    ).toContain('it’s');

    // Cancel leaves everything as it is.
    await page.getByRole('button', { name: 'Roll back to version 1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back to version 1?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Version 3 will be made equal to version 1');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await h.api('GET', '/v1/templates/order_shipped', { key: opsKey })).body.version).toBe(
      2,
    );

    await page.getByRole('button', { name: 'Roll back to version 1' }).click();
    await dialog.getByRole('button', { name: 'Roll back to version 1' }).click();
    await page.getByText('Rolled back: version 3 is version 1 again, live now.').waitFor();
    expect(await page.getByTestId('live-version').textContent()).toBe('3');
    expect((await h.api('GET', '/v1/templates/order_shipped', { key: opsKey })).body).toMatchObject(
      { version: 3, body: BODY },
    );
    // History is kept: three versions, the first two unchanged.
    expect(await page.locator('tr[data-version]').count()).toBe(3);
  });

  it('lists what the key sees, searched by key and category', async () => {
    await nav().getByRole('link', { name: 'Templates' }).click();
    const rows = page.locator('tbody tr');
    await page.locator('tr[data-template="order_shipped"]').waitFor();
    // Its own and the shared one; not the payments team's.
    expect(await rows.locator('th').allTextContents()).toEqual(['order_shipped', 'welcome_offer']);
    expect(await page.locator('tr[data-template="order_shipped"] td').allTextContents()).toEqual([
      'checkout',
      'transactional',
      '3',
      'UCS-2: ’ (U+2019)',
      expect.any(String),
    ]);
    await shot('templates');

    await page.getByLabel('Key contains').fill('WELCOME');
    expect(await rows.locator('th').allTextContents()).toEqual(['welcome_offer']);
    await page.getByLabel('Key contains').fill('');
    await page.getByLabel('Category').selectOption('transactional');
    expect(await rows.locator('th').allTextContents()).toEqual(['order_shipped']);
    await page.getByLabel('Category').selectOption('otp');
    await page.getByText('No template matches.').waitFor();

    // The shared one: this team sends with it and may preview it, but not change it.
    await page.getByLabel('Category').selectOption('');
    await page.getByRole('link', { name: 'welcome_offer' }).click();
    await page.getByRole('heading', { level: 1, name: 'Template welcome_offer' }).waitFor();
    await page
      .getByText('A shared template: every team sends with it, only an admin changes it.')
      .waitFor();
    expect(await page.getByRole('button', { name: 'Edit in a draft' }).count()).toBe(0);
  });
});
