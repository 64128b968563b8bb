import {
  connectRedis,
  deleteRedisKeys,
  type OwnRedisCluster,
  type RedisClient,
  scanTargets,
  stackKeyPrefix,
  startRedisCluster,
} from '../tools/stack';
import {
  createTemplate,
  type Harness,
  numbers,
  SANDBOX_KEY,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';
import { expectLimitKept, sendsPerRecipient } from './support/provider-log';

const REQUESTS = 4;
const PER_REQUEST = 20;

/**
 * The service unchanged on a Redis Cluster (as managed Redis often is): a local cluster of three
 * masters of its own, REDIS_URL in its `redis+cluster://` form, and a backlog sent through the
 * queues and the shared throttle. The provider (the sandbox, in a process of its own so its
 * arrival stamps are not taken on the service's event loop) must see every message once, no 429
 * and never more than the plan's 10 requests in any sliding second; and every key of the stack
 * must sit in one hash slot, which is what lets Bull's and the throttle's scripts run there.
 */
describe('Redis Cluster (e2e)', () => {
  let cluster: OwnRedisCluster;
  let h: Harness;
  let redis: RedisClient;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    // One request per message: the throttle's property is about requests.
    h = await startHarness({
      sandboxProcess: true,
      env: { REDIS_URL: cluster.url, SEND_BATCH_MAX: '1' },
    });
    redis = await connectRedis(cluster.url);
    await createTemplate(h, 'cluster', 'Order {{n}} has shipped');
  });
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
    await cluster?.stop();
  });

  it('delivers a backlog once each, with zero 429s and never over 10 in any second', async () => {
    const since = Date.now();
    const recipients = numbers(8100, REQUESTS * PER_REQUEST);
    const accepted = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) =>
        h.api('POST', '/v1/notifications', {
          body: {
            template: 'cluster',
            to: recipients.slice(i * PER_REQUEST, (i + 1) * PER_REQUEST),
            variables: { n: i },
          },
        }),
      ),
    );
    expect(accepted.map((res) => res.status)).toEqual(accepted.map(() => 202));

    for (const res of accepted) {
      const final = await waitForFinal(h, res.body.id as string, 60_000);
      expect(final.messages.map((m: { status: string }) => m.status)).toEqual(
        Array.from({ length: PER_REQUEST }, () => 'delivered'),
      );
    }

    const taken = await sendsPerRecipient(h.sandbox.adminUrl);
    expect(recipients.map((to) => taken.get(to))).toEqual(recipients.map(() => 1));
    const { sends } = await expectLimitKept(h.sandbox.adminUrl, {
      since,
      key: SANDBOX_KEY,
      expected: recipients.length,
      limit: 10,
    });
    const spanSeconds = (sends[sends.length - 1].at - sends[0].at) / 1000;
    process.stdout.write(
      `redis cluster: ${sends.length} sends in ${spanSeconds.toFixed(1)} s ` +
        `(${((sends.length - 1) / spanSeconds).toFixed(1)}/s at the provider)\n`,
    );
  }, 90_000);

  it('keeps every key of the stack under its prefix, in one hash slot on one master', async () => {
    const prefix = `${stackKeyPrefix(h.queuePrefix)}:`;
    // The cluster is this test's alone: whatever it holds, the stack wrote.
    const byNode = await Promise.all(
      scanTargets(redis).map(async (node) => {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'COUNT', 1000);
          keys.push(...found);
          cursor = next;
        } while (cursor !== '0');
        return keys;
      }),
    );
    const keys = byNode.flat();
    expect(keys.filter((key) => !key.startsWith(prefix))).toEqual([]);
    // Bull's queues and the shared throttle both left keys there.
    expect(keys.some((key) => key.startsWith(`${prefix}sms-send:`))).toBe(true);
    expect(keys.some((key) => key.startsWith(`${prefix}provider:`))).toBe(true);
    expect(byNode.filter((nodeKeys) => nodeKeys.length > 0)).toHaveLength(1);
    const slots = await Promise.all(keys.map((key) => redis.cluster('KEYSLOT', key)));
    expect(new Set(slots).size).toBe(1);
  });

  it('hears cache invalidations on the cluster (pub/sub through the same factory)', async () => {
    const channel = `${stackKeyPrefix(h.queuePrefix)}:cache-invalidation`;
    // A node lists only the channels subscribed through it; the subscriber picked one of them.
    const subscribed = await waitFor(
      async () => {
        const perNode = await Promise.all(
          scanTargets(redis).map((node) => node.pubsub('CHANNELS', channel)),
        );
        return perNode.flat().length > 0 && perNode.flat();
      },
      { what: `a subscriber on ${channel}` },
    );
    expect(subscribed).toEqual([channel]);
  });

  it('answers readiness, and holds sends while paused until resumed', async () => {
    const ready = await h.api('GET', '/health/ready', { key: null });
    expect(ready.status).toBe(200);
    expect(ready.body.info.redis).toEqual({ status: 'up' });

    const paused = await h.api('POST', '/v1/queue/pause', { body: { reason: 'cluster check' } });
    expect(paused.body).toMatchObject({ paused: true, reason: 'manual' });
    const [to] = numbers(8900, 1);
    const held = await h.api('POST', '/v1/notifications', {
      body: { template: 'cluster', to, variables: { n: 'held' } },
    });
    expect(held.status).toBe(202);
    // Bull's global pause (a script on the queue's slot) keeps the job in its paused list.
    const state = await waitFor(
      async () => {
        const res = await h.api('GET', '/v1/queue');
        return res.body.jobs.paused >= 1 ? res.body : null;
      },
      { what: 'the job to wait in the paused queue' },
    );
    expect(state).toMatchObject({ paused: true, note: 'cluster check' });
    expect((await sendsPerRecipient(h.sandbox.adminUrl)).get(to)).toBeUndefined();

    expect((await h.api('POST', '/v1/queue/resume')).body).toMatchObject({ paused: false });
    const final = await waitForFinal(h, held.body.id as string);
    expect(final.messages.map((m: { status: string }) => m.status)).toEqual(['delivered']);
    expect((await sendsPerRecipient(h.sandbox.adminUrl)).get(to)).toBe(1);
  });

  it("lets the kit's clean-up find and delete keys on every master", async () => {
    // No braces: these spread over the slots, hence over the masters.
    const keys = Array.from({ length: 30 }, (_, i) => `kit-check:${i}`);
    await Promise.all(keys.map((key) => redis.set(key, '1')));
    const holders = await Promise.all(
      scanTargets(redis).map(async (node) => (await node.keys('kit-check:*')).length),
    );
    expect(holders.filter((n) => n > 0).length).toBeGreaterThan(1);

    expect(await deleteRedisKeys(cluster.url, 'kit-check:*')).toBe(keys.length);
    expect(await Promise.all(keys.map((key) => redis.exists(key)))).toEqual(keys.map(() => 0));
  });
});
