import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
// The service's own parser and factory, so the kit reaches a cluster exactly as the service does.
// Neither imports Nest or a path alias: the tests' global teardown loads this file too.
import { parseRedisUrl } from '../../apps/notification-service/src/config/redis-url';
import {
  createRedisConnection,
  type RedisClient,
  scanTargets,
} from '../../apps/notification-service/src/redis/redis-connection';
import { errorText } from './error-text';
import { freePort } from './ports';
import { waitFor } from './wait';

export {
  type RedisClient,
  scanTargets,
} from '../../apps/notification-service/src/redis/redis-connection';
export {
  stackKeyPrefix,
  stackKeysPattern,
} from '../../apps/notification-service/src/redis/stack-keys';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** A connection for a tool (any REDIS_URL form): one try, a clear error, no reconnect loop. */
export async function connectRedis(redisUrl: string): Promise<RedisClient> {
  const redis = createRedisConnection(parseRedisUrl(redisUrl), 'tool', { lazyConnect: true });
  // Without a listener ioredis reports connection errors on stderr as well as rejecting.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new Error(`Redis is not reachable at ${redisUrl}: ${errorText(error)}`);
  }
}

/**
 * Deletes every key matching `pattern` (SCAN MATCH syntax); returns how many there were. On a
 * cluster it scans each master, as SCAN only sees the keys of the node it runs on.
 */
export async function deleteRedisKeys(redisUrl: string, pattern: string): Promise<number> {
  const redis = await connectRedis(redisUrl);
  try {
    let deleted = 0;
    for (const node of scanTargets(redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        // One key per DEL: on a cluster node, keys of different slots cannot share a command.
        if (keys.length > 0) {
          const pipeline = node.pipeline();
          for (const key of keys) pipeline.del(key);
          const results = (await pipeline.exec()) ?? [];
          deleted += results.filter(([error, count]) => error === null && count === 1).length;
        }
        cursor = next;
      } while (cursor !== '0');
    }
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

/** A redis-server child on `port` with `args`, nothing persisted; resolves once it answers. */
async function startRedisProcess(port: number, args: string[] = []): Promise<OwnRedis> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const url = `redis://127.0.0.1:${port}`;
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
          throw new Error(`redis-server on port ${port} exited during start-up`);
        }
        return pings(url);
      },
      { timeoutMs: 10_000, intervalMs: 50, what: `redis-server on port ${port}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, stop };
}

/**
 * A throwaway redis-server of our own on `port` (a spare one by default), nothing persisted: for
 * tests that take Redis away, and for a demo on a machine where none answers.
 */
export async function startRedisServer(port?: number): Promise<OwnRedis> {
  return startRedisProcess(port ?? (await freePort()));
}

export interface OwnRedisCluster {
  /** `redis+cluster://127.0.0.1:<port>,…`: a REDIS_URL naming every master. */
  url: string;
  ports: number[];
  /** Stops every node and removes their folder. */
  stop(): Promise<void>;
}

/** `count` distinct spare ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/**
 * A throwaway Redis Cluster of `masters` nodes (no replicas) on spare ports, its node files in a
 * temporary folder; resolves once every node says `cluster_state:ok`. For tests of the service on
 * a cluster, as managed Redis often is.
 */
export async function startRedisCluster(masters = 3): Promise<OwnRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'notify-redis-cluster-'));
  // Each node's cluster bus port given explicitly: the default (port + 10000) of a high spare
  // port may not exist.
  const [ports, busPorts] = [await freePorts(masters), await freePorts(masters)];
  const nodes: OwnRedis[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const [i, port] of ports.entries()) {
      nodes.push(
        await startRedisProcess(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPorts[i]),
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--dir',
          dir,
          '--daemonize',
          'no',
        ]),
      );
    }
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await promisify(execFile)(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: 30_000 },
    ).catch((error: unknown) => {
      throw new Error(`redis-cli --cluster create failed: ${errorText(error)}`);
    });
    await waitFor(async () => (await Promise.all(ports.map(clusterStateOk))).every(Boolean), {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: `the cluster on ports ${ports.join(', ')} to say cluster_state:ok`,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, ports, stop };
}

/** Whether the node on `port` has every slot covered and agrees the cluster is up. */
async function clusterStateOk(port: number): Promise<boolean> {
  let node: RedisClient;
  try {
    node = await connectRedis(`redis://127.0.0.1:${port}`);
  } catch {
    return false;
  }
  try {
    const info = String(await node.call('CLUSTER', 'INFO'));
    return /^cluster_state:ok\r?$/m.test(info);
  } catch {
    return false;
  } finally {
    node.disconnect();
  }
}

/** True when Redis at `url` (any REDIS_URL form) answers PING now (one try, no reconnect loop). */
export async function pings(url: string): Promise<boolean> {
  let redis: RedisClient;
  try {
    redis = await connectRedis(url);
  } catch {
    return false;
  }
  try {
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
