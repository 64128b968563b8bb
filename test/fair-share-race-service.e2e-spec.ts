import { connectRedis, stackKeyPrefix } from '../tools/stack';
import { createTemplate, type Harness, numbers, startHarness } from './support/harness';
import { REDIS_URL } from './support/test-env';

/**
 * Through the service (APP_ROLE=api: nothing sends, the queue keeps what intake put there): team
 * A posts 1,000 into an idle queue and team B posts 1, a few milliseconds later each time. Fair
 * share gives B's message a Bull priority near the front (A's head + 1). Before the idle queue's
 * virtual time was fixed while a batch was on its way into Bull, B's tag could be computed after
 * A's tag script but before A's addBulk: the set was empty, V was `~max` = A's last tag, and B
 * waited behind all 1,000 of A's (25 of 30 attempts).
 */
describe('Concurrent posts into an idle queue (e2e)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { APP_ROLE: 'api' } });
    await createTemplate(h, 'fair', 'Your code is {{code}}');
  });
  afterAll(async () => h?.close());

  it("never puts a team's message behind another team's whole batch posted at the same time", async () => {
    const redis = await connectRedis(REDIS_URL);
    const keys: string[] = [];
    for (const team of ['race-a', 'race-b']) {
      const res = await h.api('POST', '/v1/api-keys', {
        body: { name: team, team, scopes: ['notifications:send'] },
      });
      keys.push(res.body.key);
    }
    const queue = `${stackKeyPrefix(h.queuePrefix)}:sms-send`;
    const post = (key: string, to: string[]) =>
      h.api('POST', '/v1/notifications', {
        key,
        body: { template: 'fair', to, variables: { code: '1' } },
      });
    const behind: string[] = [];
    try {
      for (let attempt = 0; attempt < 30; attempt += 1) {
        // An idle queue again: what earlier attempts left is dropped.
        await redis.del(`${queue}:priority`, `${queue}:wait`);
        const aa = String(attempt).padStart(2, '0');
        const a = numbers(0, 1000).map((n) => n.replace('+1415555', `+14165${aa}`));
        const b = [`+1417555${aa}12`];
        const delay = attempt * 3;
        const [ra, rb] = await Promise.all([
          post(keys[0], a),
          new Promise((r) => setTimeout(r, delay)).then(() => post(keys[1], b)),
        ]);
        expect([ra.status, rb.status]).toEqual([202, 202]);
        const ranked = await redis.zrange(`${queue}:priority`, 0, -1);
        const [bJob] = await h.sql<{ id: string }>(`SELECT id FROM messages WHERE recipient = $1`, [
          b[0],
        ]);
        const place = ranked.findIndex((id) => id.startsWith(bJob.id));
        if (place > 10)
          behind.push(
            `attempt ${attempt} (+${delay} ms): B's message at ${place} of ${ranked.length}`,
          );
      }
    } finally {
      redis.disconnect();
    }
    expect(behind).toEqual([]);
  }, 120_000);
});
