import { TeamSettings } from '../apps/notification-service/src/teams/team-settings';
import { createTemplate, type Harness, numbers, startHarness, waitFor } from './support/harness';

/**
 * Fair share through the real service: teams' keys post, the provider sandbox records what it
 * received, and the tests read the ORDER it received them in (not when), so a loaded machine
 * slows them down without making them wrong. One send at a time per instance
 * (SEND_CONCURRENCY=1): the provider then receives jobs exactly in the order the queue hands
 * them out, which is the order fair share decides; several in flight could swap neighbours.
 */

type Team = 'A' | 'B';
// Each test's numbers are its own, clear of the sandbox's test suffixes (400, 666, 777, 888 and
// 999 fail or never finish).

/** The sandbox's received order of `a`'s and `b`'s numbers, as team letters. */
async function receivedOrder(h: Harness, a: string[], b: string[]): Promise<Team[]> {
  const teamOf = new Map<string, Team>([
    ...a.map((to): [string, Team] => [to, 'A']),
    ...b.map((to): [string, Team] => [to, 'B']),
  ]);
  const sent: { to: string }[] = await h.sandboxAdmin('GET', '/messages');
  return sent.flatMap(({ to }) => (teamOf.has(to) ? [teamOf.get(to) as Team] : []));
}

async function sentCount(h: Harness, to: string[]): Promise<number> {
  return (await receivedOrder(h, to, [])).length;
}

/** B's stretch of the order: from its first message to its last, and A's count inside it. */
function stretchOfB(order: Team[]) {
  const first = order.indexOf('B');
  const last = order.lastIndexOf('B');
  const stretch = order.slice(first, last + 1);
  const runsOfA = stretch
    .join('')
    .split('B')
    .map((run) => run.length);
  return {
    first,
    last,
    a: stretch.filter((t) => t === 'A').length,
    b: stretch.filter((t) => t === 'B').length,
    longestRunOfA: Math.max(...runsOfA),
  };
}

/**
 * One worker slot, one message per request: the order of requests at the provider is the order
 * the fair share chose. (With batching, a team's messages of one text share requests, and its
 * share counts recipients; the order of the slots is the same.)
 */
const ONE_PER_REQUEST = { SEND_CONCURRENCY: '1', SEND_BATCH_MAX: '1' };

async function teamKey(h: Harness, team: string): Promise<string> {
  const res = await h.api('POST', '/v1/api-keys', {
    body: { name: `${team}-svc`, team, scopes: ['notifications:send', 'notifications:read'] },
  });
  if (res.status !== 201) throw new Error(`key for ${team}: ${res.status} ${res.text}`);
  return res.body.key;
}

async function post(h: Harness, key: string, to: string[], priority = 'normal'): Promise<void> {
  const res = await h.api('POST', '/v1/notifications', {
    key,
    body: { template: 'fair', to, priority, variables: { code: '1234' } },
  });
  if (res.status !== 202) throw new Error(`post: ${res.status} ${res.text}`);
}

/** Waits until every instance's TeamSettings reads `check` true (they re-read every 2 s). */
async function settingsApplied(
  instances: Harness[],
  team: string,
  check: (share: { weight: number; highPerMinute: number; maxBacklog: number }) => boolean,
) {
  for (const h of instances) {
    const settings = h.app.get(TeamSettings, { strict: false });
    await waitFor(async () => check((await settings.current())(team)), {
      what: `${team}'s settings in force`,
    });
  }
}

/** Waits until the provider has received all of `to`. */
async function allSent(h: Harness, to: string[], timeoutMs = 40_000) {
  try {
    await waitFor(async () => (await sentCount(h, to)) === to.length, {
      timeoutMs,
      intervalMs: 200,
      what: `${to.length} messages at the provider`,
    });
  } catch (error) {
    const rows = await h.sql(`SELECT team, status, count(*)::int FROM messages GROUP BY 1, 2`);
    throw new Error(`${String(error)}; messages by team and status: ${JSON.stringify(rows)}`);
  }
}

describe('Fair share between teams through the service (e2e)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: ONE_PER_REQUEST });
    await createTemplate(h, 'fair', 'Your code is {{code}}');
  });
  afterAll(async () => {
    await h?.close();
  });

  it("interleaves a late team's messages 1:1 with a backlog that came first", async () => {
    const [keyA, keyB] = [await teamKey(h, 'eq-a'), await teamKey(h, 'eq-b')];
    const a = numbers(0, 100);
    const b = numbers(200, 10);
    await post(h, keyA, a);
    // About a second later, with A's backlog under way.
    await waitFor(async () => (await sentCount(h, a)) >= 10, { what: "A's backlog under way" });
    await post(h, keyB, b);
    const atArrival = await sentCount(h, a);
    await allSent(h, [...a, ...b]);

    const order = await receivedOrder(h, a, b);
    const stretch = stretchOfB(order);
    // First come, first served would put B's first at 100. Fair: after the job in the worker's
    // hands, A's head and the one tied with B's first (ties go to the earlier job), give or take
    // one the provider is receiving as we count.
    expect(stretch.first).toBeLessThanOrEqual(atArrival + 4);
    expect(stretch.b).toBe(10);
    // 1:1: one A between two of B's (ties go to the earlier job), so 9 in B's stretch.
    expect(stretch.longestRunOfA).toBeLessThanOrEqual(2);
    expect(stretch.a).toBeGreaterThanOrEqual(8);
    expect(stretch.a).toBeLessThanOrEqual(11);
  });

  it('gives a team of weight 3 three of every four slots while both are due', async () => {
    const [keyA, keyB] = [await teamKey(h, 'w-a'), await teamKey(h, 'w-b')];
    await h.sql(`INSERT INTO teams (team, weight) VALUES ('w-b', 3)`);
    await settingsApplied([h], 'w-b', (s) => s.weight === 3);
    const a = numbers(300, 60);
    const b = numbers(410, 30);
    await post(h, keyA, a);
    await waitFor(async () => (await sentCount(h, a)) >= 5, { what: "A's backlog under way" });
    await post(h, keyB, b);
    const atArrival = await sentCount(h, a);
    await allSent(h, [...a, ...b]);

    const order = await receivedOrder(h, a, b);
    const stretch = stretchOfB(order);
    expect(stretch.first).toBeLessThanOrEqual(atArrival + 4);
    // 30 of B's at 3:1 take 40 slots: about 10 of A's among them (1:1 would be 29).
    expect(stretch.a).toBeGreaterThanOrEqual(8);
    expect(stretch.a).toBeLessThanOrEqual(12);
    expect(stretch.b / (stretch.a + stretch.b)).toBeGreaterThanOrEqual(0.7);
    expect(stretch.longestRunOfA).toBeLessThanOrEqual(2);
  });

  it("sends a team's high beyond its allowance as normal: it does not overtake another team's normal", async () => {
    const [keyA, keyB] = [await teamKey(h, 'hi-a'), await teamKey(h, 'hi-b')];
    await h.sql(`INSERT INTO teams (team, high_per_minute) VALUES ('hi-a', 5)`);
    await settingsApplied([h], 'hi-a', (s) => s.highPerMinute === 5);
    const a = numbers(500, 30);
    const b = numbers(600, 10);
    await post(h, keyA, a, 'high');
    await post(h, keyB, b, 'normal');
    await allSent(h, [...a, ...b]);

    const order = await receivedOrder(h, a, b);
    const stretch = stretchOfB(order);
    // A's 5 allowed high go first; its other 25 wait as normal and share 1:1 with B's 10. All
    // 30 as high would put B's first at 30.
    expect(stretch.first).toBeGreaterThanOrEqual(5);
    expect(stretch.first).toBeLessThanOrEqual(5 + 2);
    expect(stretch.longestRunOfA).toBeLessThanOrEqual(2);
    expect(order.slice(0, stretch.last).filter((t) => t === 'A').length).toBeLessThanOrEqual(
      5 + 10 + 2,
    );
  });

  it('refuses a request past the backlog cap with 429 team_backlog_full and stores nothing', async () => {
    const key = await teamKey(h, 'capped');
    await h.sql(`INSERT INTO teams (team, max_backlog) VALUES ('capped', 3)`);
    await settingsApplied([h], 'capped', (s) => s.maxBacklog === 3);
    const to = numbers(700, 5);
    const res = await h.api('POST', '/v1/notifications', {
      key,
      body: { template: 'fair', to, variables: { code: '1234' } },
    });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('team_backlog_full');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const [stored] = await h.sql<{ messages: number; notifications: number }>(
      `SELECT (SELECT count(*) FROM messages WHERE team = 'capped')::int AS messages,
              (SELECT count(*) FROM notifications WHERE team = 'capped')::int AS notifications`,
    );
    expect(stored).toEqual({ messages: 0, notifications: 0 });
    expect(await sentCount(h, to)).toBe(0);

    // Within the cap, the same team is served.
    await post(h, key, numbers(710, 3));
  });
});

describe('Fair share with two instances (e2e)', () => {
  let first: Harness;
  let second: Harness;

  beforeAll(async () => {
    first = await startHarness({ env: ONE_PER_REQUEST });
    second = await startHarness({ shareWith: first, env: ONE_PER_REQUEST });
    await createTemplate(first, 'fair', 'Your code is {{code}}');
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  /** Successful provider sends this instance made (its own metrics registry). */
  const sendsBy = async (h: Harness) => {
    const text = (await h.api('GET', '/metrics', { key: null })).text;
    return text
      .split('\n')
      .filter((l) => l.startsWith('notify_provider_requests_total{') && l.includes('"send"'))
      .filter((l) => l.includes('outcome="ok"'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  };

  it('interleaves the teams when each posts to a different instance and both send', async () => {
    const keyA = await teamKey(first, 'two-a');
    const keyB = await teamKey(first, 'two-b');
    const a = numbers(1000, 100);
    const b = numbers(1200, 10);
    await post(first, keyA, a);
    await waitFor(async () => (await sentCount(first, a)) >= 10, {
      what: "A's backlog under way",
    });
    // B's tags are computed by the other instance from the same Redis state.
    await post(second, keyB, b);
    const atArrival = await sentCount(first, a);
    await allSent(first, [...a, ...b]);

    const order = await receivedOrder(first, a, b);
    const stretch = stretchOfB(order);
    // As with one instance, and a job in the second worker's hands.
    expect(stretch.first).toBeLessThanOrEqual(atArrival + 5);
    expect(stretch.b).toBe(10);
    expect(stretch.longestRunOfA).toBeLessThanOrEqual(3);
    expect(stretch.a).toBeGreaterThanOrEqual(7);
    expect(stretch.a).toBeLessThanOrEqual(12);

    // Both instances sent; between them, every message once.
    expect(await sendsBy(first)).toBeGreaterThan(0);
    expect(await sendsBy(second)).toBeGreaterThan(0);
    const sent: { to: string }[] = await first.sandboxAdmin('GET', '/messages');
    expect(sent.length).toBe(new Set(sent.map((m) => m.to)).size);
  });
});
