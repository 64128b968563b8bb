import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, chromium, type Page } from 'playwright-core';
import {
  ADMIN_KEY,
  createTemplate,
  type Harness,
  startHarness,
  waitForFinal,
} from './support/harness';

/** Debian's Chromium (scripts/test-tools.sh installs it for npm test), or CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;
/** A phone in portrait: every page must be usable this wide without scrolling sideways. */
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

interface ConsolePage {
  name: string;
  /** The hash route, or null for the sign-in page. */
  route: string | null;
  title: string;
  /** What shows once the page has its data. */
  ready: (page: Page) => Promise<void>;
}

/**
 * Every page of the console, on a desktop and on a 390 px wide phone: axe-core finds no serious or
 * critical violation, nothing scrolls sideways on the phone (a wide table scrolls inside its own
 * box), each page has its own title, and numbers sent in a row stay distinguishable once masked.
 */
describe('Web console: accessibility and small screens (e2e)', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let messageId: string;
  const pages: ConsolePage[] = [];

  const heading = (name: string | RegExp) => async (p: Page) => {
    await p.getByRole('heading', { level: 1, name }).waitFor();
  };

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'order_shipped', 'Hi {{name}}, it’s on its way.');
    const sent = await h.api('POST', '/v1/notifications', {
      body: {
        template: 'order_shipped',
        to: ['+14155550100', '+14155550400'],
        variables: { name: 'Ada' },
        reference: 'a11y-1',
      },
    });
    expect(sent.status).toBe(202);
    const done = await waitForFinal(h, sent.body.id);
    messageId = done.messages[0].id;
    expect(
      (await h.api('POST', '/v1/suppressions', { body: { to: '+14155550999', scope: 'all' } }))
        .status,
    ).toBe(201);
    await h.api('POST', '/v1/api-keys', {
      body: { name: 'checkout-service', team: 'checkout', scopes: ['notifications:send'] },
    });

    pages.push(
      { name: 'signin', route: null, title: 'Sign in', ready: heading('Notification console') },
      {
        name: 'overview',
        route: '/',
        title: 'Overview',
        ready: async (p) => {
          await p.getByTestId('total').filter({ hasText: '2' }).waitFor();
        },
      },
      {
        name: 'messages',
        route: '/messages?q=a11y-1',
        title: 'Messages',
        ready: async (p) => {
          await p.getByText('2 shown, newest first.').waitFor();
        },
      },
      {
        name: 'message',
        route: `/messages/${messageId}`,
        title: `Message ${messageId.slice(0, 8)}`,
        ready: async (p) => {
          await p.getByRole('heading', { name: 'Timeline' }).waitFor();
        },
      },
      {
        name: 'suppressions',
        route: '/suppressions',
        title: 'Suppressions',
        ready: async (p) => {
          // Its table shows a looked-up number's entries.
          await p.getByLabel('Phone number to look up').fill('+14155550999');
          await p.getByRole('button', { name: 'Look up' }).click();
          await p.getByTestId('lookup-result').waitFor();
        },
      },
      {
        name: 'teams',
        route: '/teams',
        title: 'Teams',
        ready: async (p) => {
          await p.locator('tr[data-team="checkout"]').waitFor();
        },
      },
      {
        name: 'operations',
        route: '/operations',
        title: 'Operations',
        ready: async (p) => {
          await p.getByTestId('account-default').waitFor();
        },
      },
      {
        name: 'templates',
        route: '/templates',
        title: 'Templates',
        ready: async (p) => {
          await p.locator('tr[data-template="order_shipped"]').waitFor();
        },
      },
      {
        name: 'template-new',
        route: '/templates/new',
        title: 'New template',
        ready: heading('New template'),
      },
      {
        name: 'template',
        route: '/templates/order_shipped',
        title: 'Template order_shipped',
        ready: async (p) => {
          await p.getByRole('heading', { name: 'Versions' }).waitFor();
        },
      },
      {
        name: 'api-keys',
        route: '/api-keys',
        title: 'API keys',
        ready: async (p) => {
          await p.locator('tr[data-key="checkout-service"]').waitFor();
        },
      },
    );

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    // AxeBuilder opens pages of its own in the page's context: one made with newContext.
    const context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  async function open(target: ConsolePage): Promise<void> {
    if (target.route === null) {
      // Signed out: the key goes with the tab's sessionStorage.
      await page.goto(`${h.url}/console/`);
      await page.evaluate('sessionStorage.clear()');
      await page.reload();
    } else {
      await page.goto(`${h.url}/console/#${target.route}`);
    }
    await target.ready(page);
    await page.waitForFunction(
      `document.title === ${JSON.stringify(`${target.title} · Notification console`)}`,
    );
  }

  /** axe-core's serious and critical findings, as rule and the elements it names. */
  async function violations(): Promise<string[]> {
    const result = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
      .analyze();
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  /** How far the page is wider than the window: it must not scroll sideways. */
  const overflow = () =>
    page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );

  /** What sticks out past the phone's edge, outside a box that scrolls: what to fix. */
  const widest = () =>
    page.evaluate<string[]>(
      `[...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > ${PHONE.width} && !e.closest('.scroll'))
        .filter((e) => e.parentElement.getBoundingClientRect().right <= ${PHONE.width})
        .map((e) => e.tagName.toLowerCase() + ' ' + Math.round(e.getBoundingClientRect().width) + ' px')`,
    );

  /** Signed in as an admin, who may open every page (the sign-in form has its own tests). */
  async function signIn(): Promise<void> {
    await page.goto(`${h.url}/console/`);
    await page.evaluate(
      `sessionStorage.setItem('notify-console-key', ${JSON.stringify(ADMIN_KEY)})`,
    );
    await page.reload();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
  }

  it('has no serious or critical axe violation on any page of a desktop, each with its own title', async () => {
    const found: Record<string, string[]> = {};
    const titles = new Set<string>();
    for (const target of pages) {
      if (target.route !== null) await signIn();
      await open(target);
      titles.add(await page.title());
      const problems = await violations();
      if (problems.length) found[target.name] = problems;
    }
    expect(found).toEqual({});
    expect(titles.size).toBe(pages.length);
  });

  it('fits a 390 px wide phone on every page, axe-clean there too', async () => {
    await page.setViewportSize(PHONE);
    const found: Record<string, string[]> = {};
    const wide: Record<string, string> = {};
    for (const target of pages) {
      if (target.route !== null) await signIn();
      await open(target);
      const problems = await violations();
      if (problems.length) found[target.name] = problems;
      // scrollWidth <= 390: nothing, the Messages table included, widens the page.
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      if (width > PHONE.width || (await overflow()) > 0) {
        wide[target.name] = `${width} px: ${(await widest()).join('; ')}`;
      }
      if (SCREENSHOTS) {
        mkdirSync(SCREENSHOTS, { recursive: true });
        await page.screenshot({
          path: join(SCREENSHOTS, `mobile-${target.name}.png`),
          fullPage: true,
        });
      }
    }
    expect({ found, wide }).toEqual({ found: {}, wide: {} });
    await page.setViewportSize(DESKTOP);
  });

  it('keeps the header on the phone: every link shown, none cut off', async () => {
    await page.setViewportSize(PHONE);
    await signIn();
    const links = page.getByRole('navigation', { name: 'Console' }).getByRole('link');
    // Every page an admin may open.
    expect(await links.count()).toBeGreaterThanOrEqual(7);
    for (const link of await links.all()) {
      const box = await link.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= PHONE.width).toBe(true);
    }
    await page.setViewportSize(DESKTOP);
  });

  it('shows numbers sent in a row apart once masked, and never whole', async () => {
    await signIn();
    await page.goto(`${h.url}/console/#/messages?q=a11y-1`);
    await page.getByText('2 shown, newest first.').waitFor();
    const text = (await page.locator('table').textContent()) ?? '';
    expect(text).toContain('+14*****0100');
    expect(text).toContain('+14*****0400');
    expect(text).not.toContain('4155550100');
    expect(text).not.toContain('4155550400');
  });
});
