import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { errorText } from './error-text';
import { freePort } from './ports';
import { waitFor } from './wait';

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

export interface OwnRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM; SIGKILL when it lingers) and waits for its exit. */
  stop(): Promise<void>;
}

/**
 * A throwaway redis-server of our own on `port` (a spare one by default), nothing persisted: for
 * tests that take Redis away, and for a demo on a machine where none answers.
 */
export async function startRedisServer(port?: number): Promise<OwnRedis> {
  const chosen = port ?? (await freePort());
  const child = spawn(
    'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const url = `redis://127.0.0.1:${chosen}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`redis-server on port ${chosen} exited during start-up`);
        }
        return pings(url);
      },
      { timeoutMs: 10_000, intervalMs: 50, what: `redis-server on port ${chosen}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port: chosen, stop };
}

/** True when Redis at `url` answers PING now (one try, no reconnect loop). */
export async function pings(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
