import { TeamSettings } from '../apps/notification-service/src/teams/team-settings';
import { createTemplate, type Harness, numbers, startHarness, waitFor } from './support/harness';

/**
 * Teams as a resource over the whole stack: the list and one team (an admin sees all, a key its
 * own team), setting a team's weight, allowance, backlog cap and budget, and what each team is
 * doing now: its unsent messages by priority, its share of the rate, its credits this month.
 */
describe('Teams (e2e)', () => {
  let h: Harness;
  let checkoutKey: string;
  let marketingKey: string;
  let adminKeyId: string;
  let adminKey: string;

  async function createKey(team: string, scopes: string[]): Promise<{ id: string; key: string }> {
    const res = await h.api('POST', '/v1/api-keys', {
      body: { name: `${team}-teams`, team, scopes },
    });
    expect(res.status).toBe(201);
    return { id: res.body.id, key: res.body.key };
  }

  const put = (team: string, body: unknown, key?: string) =>
    h.api('PUT', `/v1/teams/${team}`, { body, key });
  const get = (team: string, key?: string) => h.api('GET', `/v1/teams/${team}`, { key });
  const send = (key: string, to: string[], extra: Record<string, unknown> = {}) =>
    h.api('POST', '/v1/notifications', {
      key,
      body: { template: 'hello', to, variables: { name: 'Ada' }, ...extra },
    });

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'hello', 'Hi {{name}}');
    checkoutKey = (await createKey('checkout', ['notifications:send', 'notifications:read'])).key;
    marketingKey = (await createKey('marketing', ['notifications:send'])).key;
    ({ id: adminKeyId, key: adminKey } = await createKey('platform', ['admin']));
  });

  afterAll(() => h?.close());

  describe('reading', () => {
    it('lists every team with keys, each with the defaults until set', async () => {
      const res = await h.api('GET', '/v1/teams');
      expect(res.status).toBe(200);
      expect(res.body.map((t: { team: string }) => t.team)).toEqual([
        'checkout',
        'marketing',
        'platform',
      ]);
      const defaultHigh = Math.floor((h.config.rateLimitPerSecond * 60) / 10);
      expect(res.body[0]).toEqual({
        team: 'checkout',
        weight: 1,
        high_per_minute: defaultHigh,
        high_per_minute_is_default: true,
        max_backlog: 100_000,
        max_backlog_is_default: true,
        monthly_credit_budget: null,
        budget_hard_stop: false,
        usage: {
          month: new Date().toISOString().slice(0, 7),
          reserved_credits: expect.any(Number),
          used_credits: expect.any(Number),
          budget_used_ratio: null,
          days: expect.any(Array),
        },
        backlog: { high: 0, normal: 0, low: 0 },
        current_share: null,
        handed_over_last_60s: 0,
        updated_at: null,
        updated_by_key: null,
      });
    });

    it('lists a team that only has notifications (its keys revoked or never made)', async () => {
      const { id, key } = await createKey('billing', ['notifications:send']);
      expect((await send(key, numbers(9000, 1))).status).toBe(202);
      expect((await h.api('DELETE', `/v1/api-keys/${id}`)).status).toBe(204);
      await h.sql(`DELETE FROM api_keys WHERE team = 'billing'`);
      const res = await h.api('GET', '/v1/teams');
      expect(res.body.map((t: { team: string }) => t.team)).toContain('billing');
      // Handed over before the next test reads the share of the last minute twice: a hand-over
      // between its two reads would change every team's share (null, then 0).
      await waitFor(
        async () =>
          (await h.sql(`SELECT 1 FROM messages WHERE team = 'billing' AND queued_at IS NOT NULL`))
            .length === 1,
        { what: "billing's message handed over" },
      );
    });

    it('lets a key read its own team, hides other teams, and keeps the list to admins', async () => {
      const own = await get('checkout', checkoutKey);
      expect([own.status, own.body.team]).toEqual([200, 'checkout']);
      // A key that does not know its team's name asks for @me (as the console does).
      expect((await get('@me', checkoutKey)).body).toEqual(own.body);
      expect((await get('%40me', checkoutKey)).body).toEqual(own.body);
      expect((await get('@me', marketingKey)).body.team).toBe('marketing');

      const other = await get('marketing', checkoutKey);
      expect([other.status, other.body.error.code]).toEqual([404, 'team_not_found']);
      const unknown = await get('nobody', checkoutKey);
      expect([unknown.status, unknown.body.error.code]).toEqual([404, 'team_not_found']);

      const list = await h.api('GET', '/v1/teams', { key: checkoutKey });
      expect([list.status, list.body.error.code]).toEqual([403, 'forbidden']);
      const write = await put('checkout', { weight: 100 }, checkoutKey);
      expect([write.status, write.body.error.code]).toEqual([403, 'forbidden']);
      expect((await h.api('GET', '/v1/teams', { key: null })).status).toBe(401);
    });

    it('answers an admin the defaults for a team never set', async () => {
      const res = await get('nobody-yet');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ team: 'nobody-yet', weight: 1, updated_at: null });
    });
  });

  describe('setting', () => {
    it('sets the given fields, keeps the others and records who changed them', async () => {
      const first = await put('marketing', { weight: 3, monthly_credit_budget: 5000 }, adminKey);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        team: 'marketing',
        weight: 3,
        monthly_credit_budget: 5000,
        budget_hard_stop: false,
        high_per_minute_is_default: true,
        updated_by_key: adminKeyId,
      });
      expect(Date.parse(first.body.updated_at)).toBeGreaterThan(Date.now() - 60_000);

      const second = await put('marketing', { high_per_minute: 30, budget_hard_stop: true });
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({
        weight: 3,
        monthly_credit_budget: 5000,
        budget_hard_stop: true,
        high_per_minute: 30,
        high_per_minute_is_default: false,
        // The environment's ADMIN_API_KEY has no id.
        updated_by_key: null,
      });

      const back = await put('marketing', { high_per_minute: null, monthly_credit_budget: null });
      expect(back.body).toMatchObject({
        weight: 3,
        high_per_minute: Math.floor((h.config.rateLimitPerSecond * 60) / 10),
        high_per_minute_is_default: true,
        monthly_credit_budget: null,
        budget_hard_stop: true,
      });
      expect((await get('marketing')).body).toEqual(back.body);
      await put('marketing', { budget_hard_stop: false });
    });

    it('refuses bad values with 400 validation_failed and changes nothing', async () => {
      const before = (await get('marketing')).body;
      for (const body of [
        { weight: 0 },
        { weight: 101 },
        { weight: 1.5 },
        { weight: '3' },
        { weight: null },
        { high_per_minute: -1 },
        { max_backlog: 100_000_001 },
        { monthly_credit_budget: -5 },
        { budget_hard_stop: 'yes' },
        { budget_hard_stop: null },
        { colour: 'red' },
      ]) {
        const res = await put('marketing', body);
        expect([JSON.stringify(body), res.status, res.body.error?.code]).toEqual([
          JSON.stringify(body),
          400,
          'validation_failed',
        ]);
      }
      const badName = await put('Not A Team', { weight: 2 });
      expect([badName.status, badName.body.error.code]).toEqual([400, 'validation_failed']);
      const notJson = await h.api('PUT', '/v1/teams/marketing', { rawBody: '{"weight":' });
      expect(notJson.status).toBe(400);
      expect((await get('marketing')).body).toEqual(before);
    });

    it('puts a new weight in force at once (the dispatcher’s settings see it)', async () => {
      expect((await put('checkout', { weight: 7 })).status).toBe(200);
      const settings = h.app.get(TeamSettings, { strict: false });
      expect((await settings.current())('checkout').weight).toBe(7);
      await put('checkout', { weight: 1 });
    });

    it('applies a backlog cap set here at intake: 429 team_backlog_full with Retry-After', async () => {
      const { key } = await createKey('capped', ['notifications:send']);
      expect((await put('capped', { max_backlog: 3 })).body.max_backlog).toBe(3);
      const refused = await send(key, numbers(9100, 5));
      expect([refused.status, refused.body.error.code]).toEqual([429, 'team_backlog_full']);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await h.sql(`SELECT 1 FROM notifications WHERE team = 'capped'`)).toHaveLength(0);

      expect((await put('capped', { max_backlog: null })).body.max_backlog).toBe(100_000);
      expect((await send(key, numbers(9100, 5))).status).toBe(202);
    });
  });

  describe('what a team is doing', () => {
    it('counts unsent messages by priority', async () => {
      const { key } = await createKey('later', ['notifications:send']);
      const at = new Date(Date.now() + 3_600_000).toISOString();
      expect(
        (await send(key, numbers(9200, 2), { scheduled_at: at, priority: 'high' })).status,
      ).toBe(202);
      expect((await send(key, numbers(9210, 3), { scheduled_at: at })).status).toBe(202);
      expect(
        (await send(key, numbers(9220, 4), { scheduled_at: at, priority: 'low' })).status,
      ).toBe(202);

      const res = await get('later');
      expect(res.body.backlog).toEqual({ high: 2, normal: 3, low: 4 });
      const listed = (await h.api('GET', '/v1/teams')).body.find(
        (t: { team: string }) => t.team === 'later',
      );
      expect(listed.backlog).toEqual({ high: 2, normal: 3, low: 4 });
      // Another team's backlog is its own.
      expect((await get('checkout')).body.backlog).toEqual({ high: 0, normal: 0, low: 0 });
    });

    it('shows each team’s share of the messages handed to the provider in the last minute', async () => {
      const sentCheckout = await send(checkoutKey, numbers(9300, 3));
      const sentMarketing = await send(marketingKey, numbers(9310, 1));
      expect([sentCheckout.status, sentMarketing.status]).toEqual([202, 202]);
      const teams = await waitFor(
        async () => {
          const list = (await h.api('GET', '/v1/teams')).body as {
            team: string;
            handed_over_last_60s: number;
            current_share: number | null;
          }[];
          const of = (team: string) => list.find((t) => t.team === team)!;
          return of('checkout').handed_over_last_60s === 3 &&
            of('marketing').handed_over_last_60s === 1
            ? list
            : null;
        },
        { timeoutMs: 20_000, intervalMs: 100, what: 'the sends to reach the provider' },
      );
      const total = teams.reduce((sum, t) => sum + t.handed_over_last_60s, 0);
      for (const t of teams) {
        expect(t.current_share).toBeCloseTo(t.handed_over_last_60s / total, 3);
      }
      const shares = teams.reduce((sum, t) => sum + (t.current_share ?? 0), 0);
      expect(shares).toBeCloseTo(1, 3);
      expect((await get('checkout', checkoutKey)).body.current_share).toBeGreaterThan(0);
    });

    it('shows this month’s credits from team_usage and the share of the budget used', async () => {
      const month = `${new Date().toISOString().slice(0, 7)}-01`;
      await h.sql(
        `INSERT INTO team_usage (team, month, reserved_credits, used_credits)
         VALUES ('quota', $1, 120, 800)
         ON CONFLICT (team, month) DO UPDATE SET reserved_credits = 120, used_credits = 800`,
        [month],
      );
      // Last month's row is not this month's usage.
      await h.sql(
        `INSERT INTO team_usage (team, month, reserved_credits, used_credits)
         VALUES ('quota', ($1::date - interval '1 month')::date, 5, 99999)`,
        [month],
      );
      // The month's chart: its days with sends, oldest first; last month's days are not in it.
      await h.sql(
        `INSERT INTO team_usage_daily (team, day, used_credits) VALUES
           ('quota', $1::date + 1, 500), ('quota', $1::date, 300),
           ('quota', ($1::date - interval '1 day')::date, 99999)`,
        [month],
      );
      const res = await put('quota', { monthly_credit_budget: 1000 });
      const second = new Date(`${month}T00:00:00Z`);
      second.setUTCDate(2);
      expect(res.body.usage).toEqual({
        month: month.slice(0, 7),
        reserved_credits: 120,
        used_credits: 800,
        budget_used_ratio: 0.8,
        days: [
          { day: month, used_credits: 300 },
          { day: second.toISOString().slice(0, 10), used_credits: 500 },
        ],
      });
    });
  });
});
