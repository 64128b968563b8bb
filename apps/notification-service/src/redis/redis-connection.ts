import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/redis-url';

/*
 * Every ioredis connection of the service, the tests' kit and the demo is made here, so that one
 * server and a cluster are told apart in one place. No Nest or path-alias imports: the kit's
 * global teardown loads this file as it is.
 */

/** One server or a cluster: the commands the service uses exist on both. */
export type RedisClient = Redis | Cluster;

/**
 * What a connection is for, which decides its options:
 * - `commands`: the service's own keys (throttle, pause, failed-auth counts, trace links). While
 *   Redis is unreachable these fail soon instead of waiting: a send must not wait for its throttle
 *   slot past its claim (SEND_CLAIM_TIMEOUT_MS), or it could go out after the sweeper gave the
 *   message to another attempt. One server: after a few reconnect attempts; a cluster: at once.
 * - `subscriber`: pub/sub (cache invalidations); waits for Redis as long as it takes, then
 *   subscribes again on its own.
 * - `bull-client`, `bull-subscriber`, `bull-blocking`: Bull's three connections per queue. Bull
 *   refuses a subscriber or blocking connection that has a ready check or a retry limit per
 *   command (a BRPOPLPUSH must wait as long as it takes), and reads those options from the node
 *   options of a cluster.
 * - `tool`: tests, clean-up and the demo: fail at once, never reconnect.
 */
export type ConnectionUse =
  'commands' | 'subscriber' | 'bull-client' | 'bull-subscriber' | 'bull-blocking' | 'tool';

/** Per-connection options for `use`; on a cluster they apply to each node's connection. */
function nodeOptions(use: ConnectionUse): RedisOptions {
  switch (use) {
    case 'commands':
      return { maxRetriesPerRequest: 3 };
    case 'bull-client':
      // As Bull makes its own: no ready check (it waits for 'ready' itself).
      return { enableReadyCheck: false };
    case 'subscriber':
      return { maxRetriesPerRequest: null };
    case 'bull-subscriber':
    case 'bull-blocking':
      return { enableReadyCheck: false, maxRetriesPerRequest: null };
    case 'tool':
      return { maxRetriesPerRequest: 1 };
  }
}

/** A new connection to `target` for `use` (see ConnectionUse). */
export function createRedisConnection(
  target: RedisTarget,
  use: ConnectionUse,
  extra: { lazyConnect?: boolean } = {},
): RedisClient {
  const tool = use === 'tool';
  if (target.kind === 'standalone') {
    return new Redis(target.url, {
      ...nodeOptions(use),
      ...(tool ? { retryStrategy: () => null } : {}),
      ...extra,
    });
  }
  const options: ClusterOptions = {
    ...extra,
    // Reads from masters only: the throttle and the queues read what they have just written.
    scaleReads: 'master',
    // Bull's commands wait for the slot map and `cluster_state:ok`, at start-up and after an
    // outage; ours fail instead (see ConnectionUse).
    enableOfflineQueue: use !== 'commands',
    enableReadyCheck: true,
    ...(tool ? { clusterRetryStrategy: () => null } : {}),
    redisOptions: {
      ...nodeOptions(use),
      ...(target.username === undefined ? {} : { username: target.username }),
      ...(target.password === undefined ? {} : { password: target.password }),
      ...(target.tls ? { tls: {} } : {}),
    },
  };
  // With TLS, connect to nodes by the names the cluster announces rather than the addresses they
  // resolve to, so that certificates issued for those names verify (managed clusters do this).
  if (target.tls) options.dnsLookup = (address, callback) => callback(null, address);
  return new Cluster(target.nodes, options);
}

/** The connections whose keys `scan` must visit: each master of a cluster, or the one server. */
export function scanTargets(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}
