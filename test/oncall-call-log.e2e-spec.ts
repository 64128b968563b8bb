import { ProviderCallLog } from '../apps/notification-service/src/provider/provider-call-log';
import { connectRedis, deleteRedisKeys, type RedisClient, stackKeysPattern } from '../tools/stack';
import { REDIS_URL, redisPrefix } from './support/test-env';

/**
 * The provider calls behind an account's error rate on the Operations page, in real Redis: what
 * two processes count adds up, the window is 5 minutes, and old buckets do not pile up.
 */
describe('Provider call log (Redis)', () => {
  let redis: RedisClient;
  const prefix = `${redisPrefix()}-calls-${process.pid}`;
  let now = Date.UTC(2026, 11, 7, 1, 0, 0);
  const clock = () => now;

  beforeAll(async () => {
    redis = await connectRedis(REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await deleteRedisKeys(REDIS_URL, stackKeysPattern(prefix));
  });

  it('adds up the calls of every process, failures being 5xx, timeouts and refused connections', async () => {
    const worker1 = new ProviderCallLog(redis, `${prefix}:a`, clock);
    const worker2 = new ProviderCallLog(redis, `${prefix}:a`, clock);
    const api = new ProviderCallLog(redis, `${prefix}:a`, clock);
    for (const outcome of ['ok', 'server_error', 'timeout']) await worker1.record('main', outcome);
    for (const outcome of ['network_error', 'invalid_phone_number', 'rate_limit_exceeded']) {
      await worker2.record('main', outcome);
    }
    await worker2.record('backup', 'ok');
    expect(await api.counts('main')).toEqual({
      calls: 6,
      failures: 3,
      lastError: 'rate_limit_exceeded',
      lastErrorAt: now,
      lastOkAt: now,
    });
    expect(await api.counts('backup')).toMatchObject({ calls: 1, failures: 0, lastError: null });
    expect(await api.counts('idle')).toEqual({
      calls: 0,
      failures: 0,
      lastError: null,
      lastErrorAt: null,
      lastOkAt: null,
    });
  });

  it('forgets calls older than 5 minutes and drops their buckets', async () => {
    const log = new ProviderCallLog(redis, `${prefix}:b`, clock);
    await log.record('main', 'server_error');
    now += 4 * 60_000;
    await log.record('main', 'ok');
    expect(await log.counts('main')).toMatchObject({ calls: 2, failures: 1 });
    now += 61_000;
    expect(await log.counts('main')).toMatchObject({ calls: 1, failures: 0 });
    await log.record('main', 'ok');
    const fields = await redis.hkeys(`${prefix}:b:main`);
    expect(fields.filter((f) => f.endsWith(':failures'))).toEqual([]);
    expect(await log.counts('main')).toMatchObject({
      calls: 2,
      failures: 0,
      lastError: 'server_error',
    });
  });
});
