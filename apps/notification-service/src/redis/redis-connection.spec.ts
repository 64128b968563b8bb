import { Cluster, Redis } from 'ioredis';
import { parseRedisUrl } from '../config/redis-url';
import { type ConnectionUse, createRedisConnection, type RedisClient } from './redis-connection';
import { stackKeyPrefix, stackKeysPattern } from './stack-keys';

const USES: ConnectionUse[] = [
  'commands',
  'subscriber',
  'bull-client',
  'bull-subscriber',
  'bull-blocking',
  'tool',
];

/** Never connects: lazy, and disconnected at the end of each test. */
const made: RedisClient[] = [];
function lazy(url: string, use: ConnectionUse): RedisClient {
  const client = createRedisConnection(parseRedisUrl(url), use, { lazyConnect: true });
  made.push(client);
  return client;
}

/** The options Bull checks on a connection it is given: a cluster's are its nodes' options. */
function bullSees(client: RedisClient): {
  enableReadyCheck?: boolean;
  maxRetriesPerRequest?: unknown;
} {
  return client instanceof Cluster ? (client.options.redisOptions ?? {}) : client.options;
}

describe(createRedisConnection.name, () => {
  afterEach(() => {
    for (const client of made.splice(0)) client.disconnect();
  });

  it('makes one-server or cluster clients from REDIS_URL', () => {
    for (const use of USES) {
      expect(lazy('redis://127.0.0.1:6379/2', use)).toBeInstanceOf(Redis);
      expect(lazy('redis+cluster://127.0.0.1:7000,127.0.0.1:7001', use)).toBeInstanceOf(Cluster);
    }
  });

  it.each(['redis://127.0.0.1:6379', 'redis+cluster://127.0.0.1:7000'])(
    "gives Bull's subscriber and blocking connections on %s what Bull insists on",
    (url) => {
      // Bull 4 throws "Using a redis instance with enableReadyCheck or maxRetriesPerRequest for
      // bclient/subscriber is not permitted" otherwise.
      for (const use of ['bull-subscriber', 'bull-blocking'] as const) {
        const options = bullSees(lazy(url, use));
        expect(options.enableReadyCheck).toBeFalsy();
        expect(options.maxRetriesPerRequest).toBeNull();
      }
    },
  );

  it('passes credentials and TLS of a cluster URL to every node, and reads from masters', () => {
    const cluster = lazy('rediss+cluster://app:s3cret@cache-1:7000,cache-2:7000', 'commands');
    expect(cluster).toBeInstanceOf(Cluster);
    const { options } = cluster as Cluster;
    expect(options.redisOptions).toMatchObject({
      username: 'app',
      password: 's3cret',
      tls: {},
      maxRetriesPerRequest: 3,
    });
    expect(options.scaleReads).toBe('master');
    expect(options.dnsLookup).toBeDefined();
  });

  it("fails the service's own commands at once while a cluster is unreachable, not Bull's", () => {
    const url = 'redis+cluster://127.0.0.1:7000';
    expect((lazy(url, 'commands') as Cluster).options.enableOfflineQueue).toBe(false);
    expect((lazy(url, 'bull-client') as Cluster).options.enableOfflineQueue).toBe(true);
  });
});

describe(stackKeyPrefix.name, () => {
  it('hash-tags the prefix, so one stack is one cluster slot', () => {
    expect(stackKeyPrefix('notify')).toBe('{notify}');
    expect(stackKeysPattern('notify')).toBe('{notify}*');
    // Every stack of a test run: `{notify-test-1*}*` matches `{notify-test-1a-b}:sms-send:wait`.
    expect(stackKeysPattern('notify-test-1*')).toBe('{notify-test-1*}*');
  });
});
