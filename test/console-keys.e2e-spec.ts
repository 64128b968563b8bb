import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ADMIN_KEY, type Harness, startHarness, waitFor } from './support/harness';

/** Debian's Chromium (scripts/test-tools.sh installs it for npm test), or CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;

/**
 * The console's API keys page in a real browser against the real service: an admin makes a key
 * (its secret shown once and copied), sees it listed with team, scopes and last use, and revokes
 * it after a confirmation; a team lead's key sees its own team's keys and nothing secret.
 */
describe('Web console: API keys (e2e)', () => {
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let leadKey: string;
  /** The key the admin makes in the first test. */
  let secret: string;

  async function shot(name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  const nav = () => page.getByRole('navigation', { name: 'Console' });
  const row = (name: string) => page.locator(`tr[data-key="${name}"]`);

  async function signIn(key: string): Promise<void> {
    await page.goto(`${h.url}/console/`);
    await page.getByLabel('API key').fill(key);
    await page.getByLabel('API key').press('Enter');
    await nav().waitFor();
  }

  beforeAll(async () => {
    h = await startHarness();
    const lead = await h.api('POST', '/v1/api-keys', {
      body: { name: 'checkout-lead', team: 'checkout', scopes: ['keys:read'] },
    });
    expect(lead.status).toBe(201);
    leadKey = lead.body.key;
    const other = await h.api('POST', '/v1/api-keys', {
      body: { name: 'marketing-service', team: 'marketing', scopes: ['notifications:send'] },
    });
    expect(other.status).toBe(201);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // The copy button writes to the clipboard; the test reads it back.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.url });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('lets an admin create a key, shown once with a copy button, that works at once', async () => {
    await signIn(ADMIN_KEY);
    await nav().getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await page.waitForFunction("document.title === 'API keys · Notification console'");
    await row('marketing-service').waitFor();

    await page.getByLabel('Name', { exact: true }).fill('checkout-service');
    await page.getByLabel('Team', { exact: true }).fill('checkout');
    // notifications:send is ticked already; add reading.
    await page.getByRole('checkbox', { name: /^notifications:read/ }).check();
    await page.getByRole('button', { name: 'Create key' }).click();

    const secretBox = page.getByRole('region', { name: 'New key checkout-service' });
    await secretBox.waitFor();
    expect(await secretBox.textContent()).toContain('this is the only time the key is shown');
    secret = await secretBox.getByLabel('Secret key').inputValue();
    expect(secret).toMatch(/^nk_[A-Za-z0-9_-]{32}$/);
    await secretBox.getByRole('button', { name: 'Copy key' }).click();
    await secretBox.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(secret);
    await shot('api-keys');
    await secretBox.getByRole('button', { name: 'I have stored it' }).click();
    await secretBox.waitFor({ state: 'detached' });

    await row('checkout-service').waitFor();
    const cells = await row('checkout-service').locator('td').allTextContents();
    expect(cells).toEqual([
      'checkout',
      'notifications:send, notifications:read',
      expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/),
      'never',
      'active',
      'Revoke checkout-service',
    ]);

    // The key works at once; once the service has noted its use, the list shows when.
    expect((await h.api('GET', '/v1/messages?limit=1', { key: secret })).status).toBe(200);
    await waitFor(
      async () => {
        const keys = (await h.api('GET', '/v1/api-keys')).body as Array<{
          name: string;
          last_used_at: string | null;
        }>;
        return keys.find((k) => k.name === 'checkout-service')?.last_used_at ?? null;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'the new key to be marked used' },
    );
    await nav().getByRole('link', { name: 'Teams' }).click();
    await nav().getByRole('link', { name: 'API keys' }).click();
    await row('checkout-service').locator('td').nth(3).filter({ hasText: / UTC$/ }).waitFor();

    // The secret went with the page it was shown on: the list never holds it.
    expect(await secretBox.count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
  });

  it('revokes a key only after a confirmation, and it stops working', async () => {
    const secretOf = async () => {
      const listed = (await h.api('GET', '/v1/api-keys')).body as Array<{
        name: string;
        id: string;
      }>;
      return listed.find((k) => k.name === 'checkout-service')!;
    };
    const made = await secretOf();
    await row('checkout-service').getByRole('button', { name: 'Revoke checkout-service' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke checkout-service?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('This cannot be undone');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await row('checkout-service').getByTestId('key-state').textContent()).toBe('active');

    await row('checkout-service').getByRole('button', { name: 'Revoke checkout-service' }).click();
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByText(/^Revoked checkout-service \(nk_/).waitFor();
    await row('checkout-service')
      .getByTestId('key-state')
      .filter({ hasText: /^revoked / })
      .waitFor();
    const listed = (await h.api('GET', '/v1/api-keys')).body as Array<{
      id: string;
      revoked_at: string | null;
    }>;
    expect(listed.find((k) => k.id === made.id)?.revoked_at).not.toBeNull();
    expect(await row('checkout-service').getByRole('button').count()).toBe(0);
    expect((await h.api('GET', '/v1/messages?limit=1', { key: secret })).status).toBe(401);
  });

  it('shows a team lead their own team’s keys, without secrets or actions', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(leadKey);
    expect(await nav().getByRole('link').allTextContents()).toEqual(['Teams', 'API keys']);
    await nav().getByRole('link', { name: 'API keys' }).click();
    await row('checkout-lead').waitFor();
    expect(await page.locator('tbody tr th').evaluateAll((ths) => ths.length)).toBe(2);
    expect(await row('marketing-service').count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Revoke/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create key' }).count()).toBe(0);
    expect(await page.content()).not.toContain(leadKey);
  });
});
