import { loadConfig } from '../apps/notification-service/src/config/load-config';
import type { DispatchRef } from '../apps/notification-service/src/delivery-status/message-row';
import { redisKey } from '../apps/notification-service/src/redis/redis.module';
import { FairShare } from '../apps/notification-service/src/sending/fair-share';
import { SEND_QUEUE } from '../apps/notification-service/src/sending/sending.constants';
import type { TeamSettings } from '../apps/notification-service/src/teams/team-settings';
import { connectRedis, deleteRedisKeys, type RedisClient, stackKeysPattern } from '../tools/stack';
import { REDIS_URL, redisPrefix } from './support/test-env';

/**
 * Before the idle queue's virtual time was held while a batch was on its way: B's last at 1,009.
 *
 * Two teams post at the same moment into an empty queue: A's 1,000 and B's 10. DispatchService
 * computes the tags (one Lua call per team) and only then adds the jobs (Bull's addBulk), so B's
 * tag can be computed between A's tag and A's jobs landing in Bull's priority set. The set is
 * empty then, so V is `~max`, which already counts A's 1,000 unsent tags: B starts behind A's
 * whole batch (first come, first served again), instead of interleaving 1:1.
 */
describe('Fair share: concurrent posts into an empty queue', () => {
  let redis: RedisClient;
  const prefix = `${redisPrefix()}-race-${process.pid}`;
  afterAll(async () => {
    redis?.disconnect();
    await deleteRedisKeys(REDIS_URL, stackKeysPattern(prefix));
  });

  it("interleaves B's 10 with A's 1,000 when both tags are computed before either batch is added", async () => {
    redis = await connectRedis(REDIS_URL);
    const config = loadConfig({ QUEUE_PREFIX: prefix });
    const teams = {
      current: () => Promise.resolve(() => ({ weight: 1, highPerMinute: 1e6, maxBacklog: 1e6 })),
    } as unknown as TeamSettings;
    const fair = new FairShare(redis, config, teams);
    const set = redisKey(config, SEND_QUEUE, 'priority');
    const refs = (team: string, n: number): DispatchRef[] =>
      Array.from({ length: n }, (_, i) => ({
        id: `${team}-${String(i).padStart(4, '0')}`,
        dispatchSeq: 1,
        priority: 2,
        nextAttemptAt: null,
        team,
      }));
    const a = refs('a', 1000);
    const b = refs('b', 10);
    // Both requests in flight: each has its tags before either addBulk reaches Redis.
    let tagged = 0;
    let bothTagged: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => (bothTagged = resolve));
    const addAfterBoth = (refs: DispatchRef[]) => async (priorities: number[]) => {
      tagged += 1;
      if (tagged === 2) bothTagged();
      await barrier;
      await redis.zadd(set, ...refs.flatMap((r, i) => [priorities[i], r.id]));
    };
    await Promise.all([
      fair.enqueue(a, false, addAfterBoth(a)),
      fair.enqueue(b, false, addAfterBoth(b)),
    ]);
    const order = await redis.zrange(set, 0, -1);
    const lastB = order.findIndex((id) => id === 'b-0009');
    // Fair: B's 10th goes within the first ~20 slots. Before the fix: at 1,009 (after all of A's).
    expect(lastB).toBeLessThan(22);
  });
});
