import { readFileSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type Harness, startHarness } from './support/harness';

/** Debian's Chromium (scripts/test-tools.sh installs it for npm test), or CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The console's Suppressions page in a real browser against the real service: looking a number
 * up, adding, removing with a reason after a confirmation, importing a CSV file (and its line
 * errors), exporting, on a desktop and on a 390 px wide phone.
 */
describe('Web console: suppressions (e2e)', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let writerKey: string;
  let readerKey: string;
  let senderKey: string;

  async function createKey(name: string, scopes: string[]): Promise<string> {
    const res = await h.api('POST', '/v1/api-keys', { body: { name, team: 'crm', scopes } });
    expect(res.status).toBe(201);
    return res.body.key;
  }

  async function signIn(key: string): Promise<void> {
    await page.goto(`${h.url}/console/`);
    await page.getByLabel('API key').fill(key);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
  }

  const nav = () => page.getByRole('navigation', { name: 'Console' });

  async function openPage(): Promise<void> {
    await nav().getByRole('link', { name: 'Suppressions' }).click();
    await page.getByRole('heading', { level: 1, name: 'Suppressions' }).waitFor();
  }

  async function lookUp(number: string): Promise<void> {
    await page.getByLabel('Phone number to look up').fill(number);
    await page.getByRole('button', { name: 'Look up' }).click();
  }

  const live = async (to: string) =>
    (await h.api('GET', `/v1/suppressions?to=${encodeURIComponent(to)}`)).body.data;

  beforeAll(async () => {
    h = await startHarness();
    writerKey = await createKey('crm-writer', ['suppressions:read', 'suppressions:write']);
    readerKey = await createKey('crm-reader', ['suppressions:read']);
    senderKey = await createKey('crm-sender', ['notifications:send', 'notifications:read']);
    const seeded = await h.api('POST', '/v1/suppressions', {
      body: { to: '+4915100000001', scope: 'all', reason: 'Complained by email' },
    });
    expect(seeded.status).toBe(201);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('is in the navigation only for keys that may read the list', async () => {
    await signIn(senderKey);
    expect(await nav().getByRole('link').allTextContents()).not.toContain('Suppressions');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(writerKey);
    expect(await nav().getByRole('link').allTextContents()).toContain('Suppressions');
  });

  it('looks a number up, written with spaces, and shows its entry whole', async () => {
    await openPage();
    await lookUp('+49 151 0000 0001');
    await page.getByTestId('lookup-result').filter({ hasText: 'is suppressed' }).waitFor();
    const row = page.getByRole('row', { name: /Complained by email/ });
    expect(await row.locator('td').first().textContent()).toBe('all');
    expect(await row.getByText('active').count()).toBe(1);
    await lookUp('+4915100000099');
    await page.getByTestId('lookup-result').filter({ hasText: 'is not suppressed' }).waitFor();
    await lookUp('12345');
    await page.getByRole('alert').filter({ hasText: 'not a valid phone number' }).waitFor();
  });

  it('adds a number with a scope and a reason, once', async () => {
    await page.getByLabel('Phone number to add').fill('+4915100000002');
    await page.getByLabel('Scope').selectOption('marketing');
    await page.getByLabel('Reason', { exact: true }).fill('Asked at the counter');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Added +4915100000002 (marketing).').waitFor();
    expect(await live('+4915100000002')).toEqual([
      expect.objectContaining({
        scope: 'marketing',
        reason: 'Asked at the counter',
        source: 'console',
        created_by_team: 'crm',
      }),
    ]);
    // The lookup now shows the new entry.
    await page.getByRole('row', { name: /Asked at the counter/ }).waitFor();

    await page.getByLabel('Phone number to add').fill('+4915100000002');
    await page.getByLabel('Scope').selectOption('marketing');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText(/\+4915100000002 was already listed \(marketing\)/).waitFor();
    expect(await live('+4915100000002')).toHaveLength(1);
  });

  it('removes an entry only after a confirmation with a reason, keeping it as history', async () => {
    await lookUp('+4915100000002');
    const removeButton = page.getByRole('button', { name: 'Remove marketing entry' });
    await removeButton.click();
    const dialog = page.getByRole('dialog', { name: /Remove \+4915100000002 \(marketing\)/ });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await live('+4915100000002')).toHaveLength(1);

    await removeButton.click();
    await dialog.getByLabel('Reason for removing').fill('Opted in again');
    // Keyboard only: Enter confirms.
    await dialog.getByLabel('Reason for removing').press('Enter');
    await page.getByText('Removed +4915100000002 (marketing)').waitFor();
    expect(await live('+4915100000002')).toEqual([]);
    const row = page.getByRole('row', { name: /Asked at the counter/ });
    await row.getByText(/removed .* by crm: Opted in again/).waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
  });

  it('imports a CSV file, and lists the lines of a file it refuses', async () => {
    const chooser = page.getByLabel('CSV file', { exact: true });
    await chooser.setInputFiles({
      name: 'bad.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'to,scope,reason\n+4915100000010,all,\n4915100000011,all,\n+4915100000012,never,\n',
      ),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByRole('alert').filter({ hasText: 'Nothing was imported' }).waitFor();
    const problems = page.getByRole('region', { name: /Problems in the file \(2\)/ });
    expect(await problems.getByRole('listitem').allTextContents()).toEqual([
      expect.stringMatching(/^Line 3: to is not a valid phone number/),
      'Line 4: scope must be marketing or all',
    ]);
    expect(await live('+4915100000010')).toEqual([]);

    await chooser.setInputFiles({
      name: 'optouts.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'to,scope,reason\n+4915100000010,all,STOP\n+4915100000013,marketing,\n+4915100000001,all,again\n',
      ),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    await page
      .getByText('Imported 2 entries from optouts.csv; skipped 1 already listed.')
      .waitFor();
    expect(await page.getByRole('region', { name: /Problems in the file/ }).count()).toBe(0);
    expect(await live('+4915100000010')).toEqual([
      expect.objectContaining({ scope: 'all', reason: 'STOP', source: 'csv_import' }),
    ]);
  });

  it('exports the list as a CSV download, numbers unmasked', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^suppressions-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = readFileSync(await download.path(), 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe('to,scope,reason,source,created_at');
    expect(lines.map((l) => l.split(',').slice(0, 2).join(',')).sort()).toEqual([
      '+4915100000001,all',
      '+4915100000010,all',
      '+4915100000013,marketing',
      'to,scope',
    ]);
  });

  it('fits a 390 px wide phone, table and dialog included', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await openPage();
    await lookUp('+4915100000001');
    await page.getByRole('row', { name: /Complained by email/ }).waitFor();
    // How far the page scrolls sideways (a string: the tests are compiled without the DOM types).
    const overflow = () =>
      page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Remove all entry' }).click();
    const dialog = page.getByRole('dialog');
    const box = await dialog.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('shows a key that may only read why it cannot change the list', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(readerKey);
    await openPage();
    await page.getByLabel('Phone number to add').fill('+4915100000020');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'suppressions:write' }).waitFor();
    expect(await live('+4915100000020')).toEqual([]);
  });
});
