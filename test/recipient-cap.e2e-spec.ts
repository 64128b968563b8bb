import { randomUUID } from 'node:crypto';
import type { MessageCategory } from '../apps/notification-service/src/common/message-category';
import {
  AppConfig,
  type RecipientCap as CapSetting,
} from '../apps/notification-service/src/config/app-config';
import { parseRedisUrl } from '../apps/notification-service/src/config/redis-url';
import { MetricsService } from '../apps/notification-service/src/metrics/metrics.service';
import {
  type CapItem,
  RecipientCap,
} from '../apps/notification-service/src/recipient-protection/recipient-cap.service';
import { createRedisConnection } from '../apps/notification-service/src/redis/redis-connection';
import {
  deleteRedisKeys,
  type OwnRedisCluster,
  type RedisClient,
  scanTargets,
  stackKeyPrefix,
  stackKeysPattern,
  startRedisCluster,
  waitFor,
} from '../tools/stack';
import { REDIS_URL, redisPrefix } from './support/test-env';

const HOUR = 3_600_000;
const NO_CAPS: Record<MessageCategory, CapSetting | null> = {
  otp: null,
  transactional: null,
  marketing: null,
};

const connections: RedisClient[] = [];
/** Connections to the test's own cluster, closed before it stops. */
const onCluster: RedisClient[] = [];
let scenario = 0;

/** A stack of its own per scenario: nothing counted by another test is seen. */
function newPrefix(): string {
  scenario += 1;
  return `${redisPrefix()}-cap-${scenario}`;
}

function configFor(
  queuePrefix: string,
  caps: Partial<Record<MessageCategory, CapSetting | null>>,
): AppConfig {
  const config = new AppConfig();
  config.queuePrefix = queuePrefix;
  config.protection = {
    caps: { ...NO_CAPS, ...caps },
    quietHours: { otp: null, transactional: null, marketing: null },
    defaultTimezone: 'UTC',
    validityMs: { otp: 600_000, transactional: 24 * HOUR, marketing: 72 * HOUR },
  };
  return config;
}

/** A connection as the service makes its own (REDIS), ready for commands. */
async function connect(url: string): Promise<RedisClient> {
  const redis = createRedisConnection(parseRedisUrl(url), 'commands', { lazyConnect: true });
  redis.on('error', () => undefined);
  (url === REDIS_URL ? connections : onCluster).push(redis);
  await redis.connect();
  return redis;
}

/** `count` service instances sharing one stack: each its own connection and metrics. */
async function instances(
  count: number,
  config: AppConfig,
  url = REDIS_URL,
): Promise<{ cap: RecipientCap; metrics: MetricsService }[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const metrics = new MetricsService();
      return { cap: new RecipientCap(await connect(url), config, metrics), metrics };
    }),
  );
}

let numberSeq = 0;
/** A number no other scenario uses. */
function newNumber(): string {
  numberSeq += 1;
  return `+4915${String(process.pid % 1000).padStart(3, '0')}${String(numberSeq).padStart(6, '0')}`;
}

function item(
  recipient: string,
  category: MessageCategory = 'otp',
  messageId = randomUUID(),
): CapItem {
  return { messageId, recipient, category };
}

async function refusals(metrics: MetricsService): Promise<Record<string, number>> {
  const { values } = await metrics.recipientCapRefusals.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.category), v.value]));
}

/** Every key of a stack, on each master of a cluster. */
async function keysOf(redis: RedisClient, queuePrefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of scanTargets(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', stackKeysPattern(queuePrefix));
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys.sort();
}

const figures: string[] = [];
let admin: RedisClient;

beforeAll(async () => {
  admin = await connect(REDIS_URL);
});

afterAll(async () => {
  try {
    await deleteRedisKeys(REDIS_URL, stackKeysPattern(`${redisPrefix()}-cap-*`));
    expect(await keysOf(admin, `${redisPrefix()}-cap-*`)).toEqual([]);
  } finally {
    await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    if (figures.length > 0) process.stdout.write(`recipient cap: ${figures.join('; ')}\n`);
  }
});

describe('RecipientCap against real Redis', () => {
  it('lets exactly N of 200 concurrent messages to one number through from two instances', async () => {
    const limit = 5;
    const attempts = 200;
    const [a, b] = await instances(2, configFor(newPrefix(), { otp: { limit, windowMs: HOUR } }));
    for (let round = 1; round <= 6; round += 1) {
      const to = newNumber();
      const items = Array.from({ length: attempts }, () => item(to));
      // Odd rounds: one take() per message; even rounds: batches of 20, as intake would send.
      const batch = round % 2 === 1 ? 1 : 20;
      const calls: Promise<boolean[]>[] = [];
      for (let i = 0; i < attempts; i += batch) {
        const instance = (i / batch) % 2 === 0 ? a : b;
        calls.push(instance.cap.take(items.slice(i, i + batch)));
      }
      const passed = (await Promise.all(calls)).flat().filter(Boolean).length;
      figures.push(`round ${round} (batch ${batch}): ${passed}/${attempts} passed`);
      expect(passed).toBe(limit);
    }
    const refused = (await refusals(a.metrics)).otp + (await refusals(b.metrics)).otp;
    expect(refused).toBe(6 * (attempts - limit));
  });

  it('counts a message once, however often and from wherever it is checked', async () => {
    const [a, b] = await instances(
      2,
      configFor(newPrefix(), { transactional: { limit: 2, windowMs: HOUR } }),
    );
    const to = newNumber();
    const first = item(to, 'transactional');
    // Intake counts it, the send path and a job run twice check it again, on either instance.
    const checks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).cap.take([first, first])),
    );
    expect(checks.flat().every(Boolean)).toBe(true);

    expect(await a.cap.take([item(to, 'transactional')])).toEqual([true]);
    expect(await b.cap.take([item(to, 'transactional')])).toEqual([false]);
    // Still allowed once the cap is reached: it was counted before.
    expect(await b.cap.take([first])).toEqual([true]);
  });

  it('lets a new message go once the window has slid past the earlier ones', async () => {
    const [{ cap }] = await instances(
      1,
      configFor(newPrefix(), { marketing: { limit: 2, windowMs: 1000 } }),
    );
    const to = newNumber();
    const start = Date.now();
    expect(await cap.take([item(to, 'marketing'), item(to, 'marketing')])).toEqual([true, true]);
    expect(await cap.take([item(to, 'marketing')])).toEqual([false]);

    await waitFor(async () => (await cap.take([item(to, 'marketing')]))[0], {
      timeoutMs: 5000,
      intervalMs: 25,
      what: 'the 1 s window to slide past the first two messages',
    });
    const waited = Date.now() - start;
    figures.push(`window 2/1s: a new message went after ${waited} ms`);
    // Redis's clock, not ours, decides: allow for the two drifting by a little.
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(2000);
  });

  it('keeps numbers and categories apart, and numbers out of the keys', async () => {
    const queuePrefix = newPrefix();
    const [{ cap, metrics }] = await instances(
      1,
      configFor(queuePrefix, {
        otp: { limit: 1, windowMs: HOUR },
        marketing: { limit: 1, windowMs: HOUR },
      }),
    );
    const [x, y, z] = [newNumber(), newNumber(), newNumber()];
    expect(await cap.take([item(x, 'otp'), item(x, 'otp')])).toEqual([true, false]);
    // Another category of the same number, and another number, have budgets of their own.
    expect(await cap.take([item(x, 'marketing'), item(y, 'otp')])).toEqual([true, true]);
    expect(
      await cap.take([item(x, 'otp'), item(y, 'otp'), item(z, 'otp'), item(x, 'marketing')]),
    ).toEqual([false, false, true, false]);
    expect(await refusals(metrics)).toEqual({ otp: 3, marketing: 1 });

    const keys = await keysOf(admin, queuePrefix);
    expect(keys).toHaveLength(4);
    for (const key of keys) {
      expect(key).toMatch(/^\{[^}]+\}:recipient-cap:(otp|marketing):[0-9a-f]{32}$/);
      for (const to of [x, y, z]) expect(key).not.toContain(to.slice(1));
    }
  });

  it('makes no Redis call for a category without a cap', async () => {
    const queuePrefix = newPrefix();
    const config = configFor(queuePrefix, { marketing: { limit: 1, windowMs: HOUR } });
    const [{ cap }] = await instances(1, config);
    const to = newNumber();
    const uncapped = Array.from({ length: 10 }, () => item(to, 'otp'));
    expect(await cap.take(uncapped)).toEqual(uncapped.map(() => true));
    expect(await keysOf(admin, queuePrefix)).toEqual([]);

    // On a connection that is closed, any Redis call would fail the take.
    const closed = createRedisConnection(parseRedisUrl(REDIS_URL), 'commands');
    await closed.quit();
    const offline = new RecipientCap(closed, config, new MetricsService());
    expect(await offline.take(uncapped)).toEqual(uncapped.map(() => true));
    await expect(offline.take([item(to, 'marketing')])).rejects.toThrow();
  });

  it('answers each item of a mixed call in its place', async () => {
    const [{ cap }] = await instances(
      1,
      configFor(newPrefix(), { otp: { limit: 1, windowMs: HOUR } }),
    );
    const to = newNumber();
    expect(
      await cap.take([
        item(to, 'transactional'),
        item(to, 'otp'),
        item(to, 'transactional'),
        item(to, 'otp'),
      ]),
    ).toEqual([true, true, true, false]);
    expect(await cap.take([])).toEqual([]);
  });
});

/**
 * On a Redis Cluster: each number's script touches its own key only, and every key carries the
 * stack's hash tag, so one call's scripts for many numbers share one pipeline to one node.
 */
describe('RecipientCap on a Redis Cluster', () => {
  let cluster: OwnRedisCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  });
  afterAll(async () => {
    // Its connections first: they would try to reach the stopped nodes.
    for (const c of onCluster.splice(0)) await c.quit().catch(() => c.disconnect());
    await cluster?.stop();
  });

  it('lets exactly N per number and category through from two instances', async () => {
    const limit = 3;
    const queuePrefix = newPrefix();
    const config = configFor(queuePrefix, {
      otp: { limit, windowMs: HOUR },
      transactional: { limit, windowMs: HOUR },
    });
    const [a, b] = await instances(2, config, cluster.url);
    const recipients = Array.from({ length: 10 }, () => newNumber());
    const categories: MessageCategory[] = ['otp', 'transactional'];
    const attemptsEach = 20;
    // Each call names every number and category: 20 batches of 20, split over both instances.
    const items = Array.from({ length: attemptsEach }, () =>
      recipients.flatMap((to) => categories.map((category) => item(to, category))),
    );
    const answers = await Promise.all(
      items.map((batch, i) => (i % 2 === 0 ? a : b).cap.take(batch)),
    );
    const passed = new Map<string, number>();
    for (const [i, batch] of items.entries()) {
      for (const [j, { recipient, category }] of batch.entries()) {
        const key = `${recipient} ${category}`;
        passed.set(key, (passed.get(key) ?? 0) + (answers[i][j] ? 1 : 0));
      }
    }
    expect([...passed.values()]).toEqual([...passed.values()].map(() => limit));
    figures.push(
      `cluster: ${limit}/${attemptsEach} passed for each of ${passed.size} number-category pairs`,
    );

    const redis = await connect(cluster.url);
    const keys = await keysOf(redis, queuePrefix);
    expect(keys).toHaveLength(recipients.length * categories.length);
    const [node] = scanTargets(redis);
    const slots = new Set(
      await Promise.all(keys.map((key) => node.call('CLUSTER', 'KEYSLOT', key))),
    );
    expect(slots.size).toBe(1);
    expect(keys[0]).toContain(`${stackKeyPrefix(queuePrefix)}:recipient-cap:`);

    // Scripts flushed (as after a failover or restart; on our own cluster, not the shared Redis):
    // EVALSHA answers NOSCRIPT and the script is sent again, in the pipeline's place.
    await Promise.all(scanTargets(redis).map((master) => master.script('FLUSH')));
    const [again] = recipients;
    expect(await b.cap.take([item(again, 'otp'), item(newNumber(), 'otp')])).toEqual([false, true]);
    await deleteRedisKeys(cluster.url, stackKeysPattern(queuePrefix));
  });
});
