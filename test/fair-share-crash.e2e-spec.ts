import { freePort, type ServiceProcess, spawnService, waitFor } from '../tools/stack';
import {
  createTemplate,
  type Harness,
  numbers,
  startHarness,
  waitForFinal,
} from './support/harness';

/**
 * `kill -9` of the only sending instance while two teams' backlogs share the rate, then a new
 * worker: every message of both teams is delivered, none lost, and a message reaches the
 * provider twice only if its call was in flight at the kill (docs/guarantees.md, "the one
 * duplicate window"). Outcomes only, no timings: it lives in the e2e project, not `timing`.
 */
describe('A crash in the middle of a fair-share backlog (e2e)', () => {
  let api: Harness;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    // A provider taking 200 ms a call: several calls are in flight when the worker dies.
    // One request per message (workers take api.env): the claims in flight are single calls.
    api = await startHarness({
      env: { APP_ROLE: 'api', SEND_BATCH_MAX: '1' },
      sandbox: { latencyMs: 200 },
    });
    await createTemplate(api, 'fair', 'Your code is {{code}}');
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await api?.close();
  });

  const spawnWorker = async () => {
    const worker = await spawnService({
      ...api.env,
      APP_ROLE: 'worker',
      PORT: String(await freePort()),
      LOG_LEVEL: 'error',
    });
    workers.push(worker);
    return worker;
  };

  const post = async (team: string, to: string[]): Promise<string> => {
    const key = await api.api('POST', '/v1/api-keys', {
      body: { name: `${team}-svc`, team, scopes: ['notifications:send'] },
    });
    expect(key.status).toBe(201);
    const res = await api.api('POST', '/v1/notifications', {
      key: key.body.key,
      body: { template: 'fair', to, variables: { code: '1234' } },
    });
    expect(res.status).toBe(202);
    return res.body.id;
  };

  it('delivers both teams’ messages, none lost, none twice but calls in flight at the kill', async () => {
    const victim = await spawnWorker();
    const lease = await waitFor(
      async () =>
        (
          await api.sql<{ id: string }>(`SELECT id FROM worker_leases WHERE pid = $1`, [
            victim.child.pid,
          ])
        )[0],
      { what: "the victim's lease" },
    );
    // Numbers clear of the sandbox's test suffixes (400, 666, 777, 888, 999 fail or stick).
    const a = numbers(2000, 60);
    const b = numbers(2100, 30);
    const notifications = [await post('crash-a', a), await post('crash-b', b)];

    // Both teams under way, with the victim's calls in flight.
    await waitFor(
      async () => {
        const rows = await api.sql<{ team: string; handed: number; claimed: number }>(
          `SELECT team, count(*) FILTER (WHERE provider_message_id IS NOT NULL)::int AS handed,
                  count(*) FILTER (WHERE claim_owner = $1)::int AS claimed
           FROM messages GROUP BY team`,
          [lease.id],
        );
        const handed = (team: string) => rows.find((r) => r.team === team)?.handed ?? 0;
        const claimed = rows.reduce((n, r) => n + r.claimed, 0);
        return handed('crash-a') >= 5 && handed('crash-b') >= 5 && claimed > 0;
      },
      { intervalMs: 10, what: 'both backlogs under way' },
    );
    await victim.kill('SIGKILL');
    const inFlight = await api.sql<{ recipient: string }>(
      `SELECT recipient FROM messages WHERE claim_owner = $1`,
      [lease.id],
    );
    expect(inFlight.length).toBeGreaterThan(0);

    await spawnWorker();
    for (const id of notifications) {
      const final = await waitForFinal(api, id, 90_000);
      expect(final.messages.filter((m: { status: string }) => m.status !== 'delivered')).toEqual(
        [],
      );
    }

    const sent: { to: string }[] = await api.sandboxAdmin('GET', '/messages');
    const copies = new Map<string, number>();
    for (const { to } of sent) copies.set(to, (copies.get(to) ?? 0) + 1);
    const mayRepeat = new Set(inFlight.map((r) => r.recipient));
    // None lost; one copy each, but a call in flight at the kill may have reached the provider.
    expect([...a, ...b].filter((to) => !copies.has(to))).toEqual([]);
    expect(
      [...a, ...b].filter((to) => (copies.get(to) ?? 0) > (mayRepeat.has(to) ? 2 : 1)),
    ).toEqual([]);
    // The share survived the restart: B's 30, interleaved with A's 60, were done before A's.
    const order = sent.map(({ to }) => (b.includes(to) ? 'B' : 'A'));
    expect(order.lastIndexOf('B')).toBeLessThan(order.lastIndexOf('A'));
  });
});
