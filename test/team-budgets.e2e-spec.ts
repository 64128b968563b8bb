import { usageMonth } from '../apps/notification-service/src/teams/usage-month';
import {
  createTemplate,
  type Harness,
  numbers,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

/**
 * Team budgets in provider credits (issue #20 item 3): intake reserves segments × recipients and
 * refuses past a hard-stop budget with 402 (nothing stored), the provider's credits_used counts
 * as used, and a team whose hard-stop budget is used up has its waiting messages held until the
 * budget is raised.
 */
describe('Team budgets in provider credits (e2e)', () => {
  let h: Harness;
  const keys: Record<string, string> = {};
  const month = () => usageMonth(new Date());

  const setBudget = (team: string, budget: number | null, hardStop: boolean) =>
    h.sql(
      `INSERT INTO teams (team, monthly_credit_budget, budget_hard_stop) VALUES ($1, $2, $3)
       ON CONFLICT (team) DO UPDATE SET monthly_credit_budget = $2, budget_hard_stop = $3`,
      [team, budget, hardStop],
    );
  const usage = async (team: string) => {
    const [row] = await h.sql<{ reserved_credits: string; used_credits: string }>(
      `SELECT reserved_credits, used_credits FROM team_usage WHERE team = $1 AND month = $2`,
      [team, month()],
    );
    return { reserved: Number(row?.reserved_credits ?? 0), used: Number(row?.used_credits ?? 0) };
  };
  const storedOf = async (team: string) =>
    Number((await h.sql(`SELECT count(*) AS n FROM notifications WHERE team = $1`, [team]))[0].n) +
    Number((await h.sql(`SELECT count(*) AS n FROM messages WHERE team = $1`, [team]))[0].n);
  const send = (
    team: string,
    to: string[],
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) =>
    h.api('POST', '/v1/notifications', {
      key: keys[team],
      headers,
      body: { template: 'budget', to, variables: { code: '1234' }, ...extra },
    });

  beforeAll(async () => {
    h = await startHarness();
    // One GSM-7 segment per recipient.
    await createTemplate(h, 'budget', 'Your code is {{code}}');
    for (const team of ['capped', 'rush', 'soft', 'held']) {
      const created = await h.api('POST', '/v1/api-keys', {
        body: { name: `${team}-svc`, team, scopes: ['notifications:send', 'notifications:read'] },
      });
      expect(created.status).toBe(201);
      keys[team] = created.body.key;
    }
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses a request past a hard-stop budget with 402 budget_exceeded and stores nothing', async () => {
    await setBudget('capped', 3, true);

    const refused = await send('capped', numbers(100, 4));
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({
      success: false,
      error: {
        code: 'budget_exceeded',
        details: { team: 'capped', monthly_credit_budget: 3, requested_credits: 4 },
      },
    });
    expect(await storedOf('capped')).toBe(0);
    expect(await usage('capped')).toEqual({ reserved: 0, used: 0 });

    // What fits is accepted and reserved; a replay of it reserves nothing more; the next credit
    // is one too many.
    const headers = { 'Idempotency-Key': 'capped-1' };
    const first = await send('capped', numbers(100, 3), {}, headers);
    expect(first.status).toBe(202);
    expect((await usage('capped')).reserved).toBe(3);
    const replay = await send('capped', numbers(100, 3), {}, headers);
    expect(replay.body.id).toBe(first.body.id);
    expect((await usage('capped')).reserved).toBe(3);
    expect((await send('capped', numbers(200, 1))).status).toBe(402);
  });

  it('accepts exactly the concurrent requests that fit the budget, never reserving past it', async () => {
    await setBudget('rush', 5, true);

    const answers = await Promise.all(numbers(300, 20).map((to) => send('rush', [to])));

    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(5);
    expect(statuses.filter((s) => s === 402)).toHaveLength(15);
    expect((await usage('rush')).reserved).toBe(5);
    const [{ n }] = await h.sql(`SELECT count(*) AS n FROM messages WHERE team = 'rush'`);
    expect(Number(n)).toBe(5);
  });

  it('refuses nothing without hard stop, and counts the credits the provider used', async () => {
    await setBudget('soft', 2, false);

    const accepted = await send('soft', numbers(410, 5));
    expect(accepted.status).toBe(202);
    expect((await usage('soft')).reserved).toBe(5);

    const final = await waitForFinal(h, accepted.body.id);
    expect(final.messages.map((m: { status: string }) => m.status)).toEqual(
      Array(5).fill('delivered'),
    );
    await waitFor(async () => (await usage('soft')).used === 5, { what: 'used credits to be 5' });
    // Today's part of the month's chart (Teams page) holds the same credits.
    const [today] = await h.sql<{ used_credits: string }>(
      `SELECT used_credits FROM team_usage_daily
       WHERE team = 'soft' AND day = (now() AT TIME ZONE 'UTC')::date`,
    );
    expect(Number(today?.used_credits)).toBe(5);

    // The gauge the alert rule reads: used over budget, 2.5 here.
    await waitFor(
      async () => {
        const scrape = (await h.api('GET', '/metrics', { key: null })).text;
        return /^notify_team_budget_used_ratio\{team="soft"\} 2\.5$/m.test(scrape) || null;
      },
      { what: 'the gauge to say 2.5', timeoutMs: 5000 },
    );
  });

  it('holds a team’s waiting messages while its hard-stop budget is used up, and sends them once it is raised', async () => {
    await setBudget('held', 10, true);
    const scheduledAt = new Date(Date.now() + 3000).toISOString();
    const accepted = await send('held', numbers(500, 2), { scheduled_at: scheduledAt });
    expect(accepted.status).toBe(202);
    // The provider charged the team's whole budget meanwhile (other sends of the month).
    await h.sql(`UPDATE team_usage SET used_credits = 10 WHERE team = 'held' AND month = $1`, [
      month(),
    ]);

    // Due now, each message is deferred with the reason instead of being sent.
    const held = await waitFor(
      async () => {
        const res = await h.api('GET', `/v1/notifications/${accepted.body.id}`);
        const all = res.body.messages as { status: string; events: { details: any }[] }[];
        return all.every((m) => m.events.some((e) => e.details?.reason === 'budget_exceeded'))
          ? all
          : null;
      },
      { what: 'both messages to be held', timeoutMs: 15_000 },
    );
    for (const m of held) expect(['scheduled', 'pending']).toContain(m.status);
    expect((await usage('held')).used).toBe(10);
    // New requests are refused meanwhile.
    expect((await send('held', numbers(600, 1))).status).toBe(402);

    // Raised: the held messages go at their next look (within the hold interval), none lost.
    await setBudget('held', 1000, true);
    const final = await waitForFinal(h, accepted.body.id, 90_000);
    expect(final.messages.map((m: { status: string }) => m.status)).toEqual([
      'delivered',
      'delivered',
    ]);
    await waitFor(async () => (await usage('held')).used === 12, { what: 'used credits to be 12' });
  }, 120_000);
});
