import { Redis } from 'ioredis';
import { errorText } from './error-text';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Deletes every key matching `pattern` (SCAN MATCH syntax); returns how many there were. */
export async function deleteRedisKeys(redisUrl: string, pattern: string): Promise<number> {
  // No reconnect loop: an unreachable Redis should fail at once with a clear message.
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // Without a listener ioredis reports connection errors on stderr as well as rejecting.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`Redis is not reachable at ${redisUrl}: ${errorText(error)}`);
  }
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  } finally {
    await redis.quit();
  }
}
