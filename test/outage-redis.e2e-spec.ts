import { type OwnRedis, pings, startRedisServer } from '../tools/stack';
import { createTemplate, type Harness, startHarness } from './support/harness';

/**
 * Redis stopped mid-backlog: intake never hangs. It answers 202 for what it committed within
 * about the enqueue bound (the sweeper enqueues later) instead of waiting on reconnects after its
 * rows are committed, which made callers time out and retry into duplicates. Its own
 * redis-server on a spare port: the shared one is never stopped.
 */
describe('Redis outage at intake (e2e)', () => {
  let redis: OwnRedis;
  let h: Harness;

  beforeAll(async () => {
    redis = await startRedisServer();
    h = await startHarness({ env: { REDIS_URL: redis.url } });
    await createTemplate(h, 'outage', 'Hi {{n}}');
  });
  afterAll(async () => {
    // Redis back first: closing the queues against a stopped server waits out its reconnects.
    if (redis && !(await pings(redis.url))) redis = await startRedisServer(redis.port);
    await h?.close().catch(() => undefined);
    await redis?.stop();
  });

  it('answers at once for what it committed while Redis is down', async () => {
    const send = (i: number) =>
      h.api('POST', '/v1/notifications', {
        body: { template: 'outage', to: `+1415555${String(1000 + i)}`, variables: { n: i } },
      });
    const before = await Promise.all([0, 1, 2, 3, 4].map(send));
    expect(before.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);

    await redis.stop();
    const during: { status: number; ms: number; id: string | undefined }[] = [];
    for (let i = 5; i < 15; i++) {
      const started = Date.now();
      const res = await send(i);
      during.push({ status: res.status, ms: Date.now() - started, id: res.body?.id });
    }
    // Accepted (committed) or refused before committing, never a hang: bounded by the 100 ms
    // enqueue and the 100 ms auth-limiter budgets plus the request itself.
    for (const r of during) expect([202, 503]).toContain(r.status);
    const slowest = Math.max(...during.map((r) => r.ms));
    expect(slowest).toBeLessThan(1500);
    // What was answered 202 is committed: the database alone can finish it.
    const accepted = during.filter((r) => r.status === 202).map((r) => r.id);
    const [row] = await h.sql(
      `SELECT count(*)::int AS n FROM messages WHERE notification_id = ANY($1::uuid[])`,
      [accepted],
    );
    expect(row.n).toBe(accepted.length);
    process.stdout.write(
      `redis outage: ${accepted.length}/10 accepted while down, slowest answer ${slowest} ms\n`,
    );
  });
});
