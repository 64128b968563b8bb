import { type Browser, chromium, type Page } from 'playwright-core';
import { ADMIN_KEY, createTemplate, type Harness, numbers, startHarness } from './support/harness';

/** Debian's Chromium (scripts/test-tools.sh installs it for npm test), or CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The console's Teams page in a real browser against the real service: an admin sees every team
 * (weight, budget with this month's usage, backlog by priority, share of the rate) and edits one;
 * a team lead sees their own team only; on a desktop and on a 390 px wide phone.
 */
describe('Web console: teams (e2e)', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let leadKey: string;
  let marketingKey: string;

  async function createKey(team: string, scopes: string[]): Promise<string> {
    const res = await h.api('POST', '/v1/api-keys', {
      body: { name: `${team}-lead`, team, scopes },
    });
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
  const row = (team: string) => page.locator(`tr[data-team="${team}"]`);

  async function openPage(): Promise<void> {
    await nav().getByRole('link', { name: 'Teams' }).click();
    await page.getByRole('heading', { level: 1, name: 'Teams' }).waitFor();
  }

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'hello', 'Hi {{name}}');
    leadKey = await createKey('checkout', ['notifications:send', 'notifications:read']);
    marketingKey = await createKey('marketing', ['notifications:send']);

    // checkout: 2 high and 3 normal messages waiting for tomorrow.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const later = (to: string[], priority: string) =>
      h.api('POST', '/v1/notifications', {
        key: leadKey,
        body: { template: 'hello', to, variables: { name: 'A' }, scheduled_at: tomorrow, priority },
      });
    expect((await later(numbers(100, 2), 'high')).status).toBe(202);
    expect((await later(numbers(110, 3), 'normal')).status).toBe(202);

    // marketing: a budget of 1,000 credits, 800 used this month, and messages sent now.
    expect(
      (await h.api('PUT', '/v1/teams/marketing', { body: { monthly_credit_budget: 1000 } })).status,
    ).toBe(200);
    const month = `${new Date().toISOString().slice(0, 7)}-01`;
    await h.sql(
      `INSERT INTO team_usage (team, month, reserved_credits, used_credits) VALUES ('marketing', $1, 0, 800)
       ON CONFLICT (team, month) DO UPDATE SET used_credits = team_usage.used_credits + 800`,
      [month],
    );
    // The month's chart: 300 credits on its first day.
    await h.sql(
      `INSERT INTO team_usage_daily (team, day, used_credits) VALUES ('marketing', $1, 300)
       ON CONFLICT (team, day) DO UPDATE SET used_credits = team_usage_daily.used_credits + 300`,
      [month],
    );
    const sent = await h.api('POST', '/v1/notifications', {
      key: marketingKey,
      body: { template: 'hello', to: numbers(200, 2), variables: { name: 'B' } },
    });
    expect(sent.status).toBe(202);

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

  it('shows an admin every team: weight, limits, budget and usage, backlog, share now', async () => {
    await signIn(ADMIN_KEY);
    await openPage();
    await row('checkout').waitFor();
    expect(await page.locator('tbody tr th').allTextContents()).toEqual(['checkout', 'marketing']);

    const checkout = row('checkout');
    expect(await checkout.locator('td').first().textContent()).toBe('1');
    await checkout.getByText('No budget').waitFor();
    expect(await checkout.getByTestId('backlog').textContent()).toBe('2 high, 3 normal, 0 low');
    await checkout.getByText(/cap 100,000 \(default\)/).waitFor();

    const marketing = row('marketing');
    // The usage bar is labelled with the figures it draws.
    const meter = marketing.getByRole('meter', { name: /of 1,000 credits \(\d+\.\d %\)/ });
    await meter.waitFor();
    // Once marketing's two messages reach the provider (the page reads again every 5 s), it has
    // every slot of the last minute and checkout none.
    await marketing
      .getByTestId('share')
      .filter({ hasText: '100.0 %' })
      .waitFor({ timeout: 20_000 });
    expect(await checkout.getByTestId('share').textContent()).toBe('0.0 %');
    // At least the 800 credits team_usage holds (the sends may add what the provider charged).
    expect(Number(await meter.getAttribute('value'))).toBeGreaterThanOrEqual(800);
    // The month's credits per day, described in words for a screen reader.
    await marketing
      .getByRole('img', { name: /^Credits used per day in \d{4}-\d{2}: 1: 300/ })
      .waitFor();
    expect(
      await marketing.getByTestId('usage-chart-marketing').locator('rect[height="0"]').count(),
    ).toBeGreaterThan(0);
  });

  it('lets an admin change a team’s weight, budget and hard stop', async () => {
    await page.getByRole('button', { name: 'Edit checkout' }).click();
    const dialog = page.getByRole('dialog', { name: 'Settings of checkout' });
    await dialog.waitFor();
    await dialog.getByLabel('Weight (1–100)').fill('4');
    await dialog.getByLabel('Monthly credit budget').fill('2000');
    await dialog.getByLabel(/Hard stop/).check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved checkout: weight 4.').waitFor();
    await dialog.waitFor({ state: 'hidden' });

    const stored = (await h.api('GET', '/v1/teams/checkout')).body;
    expect(stored).toMatchObject({
      weight: 4,
      monthly_credit_budget: 2000,
      budget_hard_stop: true,
      high_per_minute_is_default: true,
      max_backlog_is_default: true,
    });
    expect(await row('checkout').locator('td').first().textContent()).toBe('4');
    await row('checkout')
      .getByRole('meter', { name: /of 2,000 credits/ })
      .waitFor();

    // Cancel changes nothing.
    await page.getByRole('button', { name: 'Edit checkout' }).click();
    await dialog.getByLabel('Weight (1–100)').fill('9');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await h.api('GET', '/v1/teams/checkout')).body.weight).toBe(4);
  });

  it('fits a 390 px wide phone, table and dialog included', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await openPage();
    await row('marketing').waitFor();
    // How far the page scrolls sideways (a string: the tests are compiled without the DOM types).
    const overflow = () =>
      page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Edit marketing' }).click();
    const dialog = page.getByRole('dialog');
    const box = await dialog.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('shows a team lead their own team only, without editing', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(leadKey);
    expect(await nav().getByRole('link').allTextContents()).toContain('Teams');
    await openPage();
    await row('checkout').waitFor();
    expect(await page.locator('tbody tr th').allTextContents()).toEqual(['checkout']);
    expect(await row('checkout').getByTestId('backlog').textContent()).toBe(
      '2 high, 3 normal, 0 low',
    );
    await row('checkout')
      .getByRole('meter', { name: /of 2,000 credits/ })
      .waitFor();
    expect(await page.getByRole('button', { name: /^Edit/ }).count()).toBe(0);
    expect(await page.getByText('This key sees its own team.', { exact: false }).count()).toBe(1);
  });
});
