import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDatabase, dropDatabase } from '../../tools/stack/database';
import { databasePrefix, databaseUrl, PG_ADMIN_URL, templateDatabase } from '../support/test-env';
import { databaseOptions } from '../../apps/notification-service/src/database/database-options';
import { MetricsService } from '../../apps/notification-service/src/metrics/metrics.service';
import {
  MessageLifecycleRepository,
  type StoredNewMessage,
} from '../../apps/notification-service/src/delivery-status/message-lifecycle.repository';
import { MessageQueriesRepository } from '../../apps/notification-service/src/delivery-status/message-queries.repository';
import type { Message } from '../../apps/notification-service/src/delivery-status/message';

/**
 * Many recipients in one provider request: which waiting messages may join a leader's request,
 * and how the provider's news for one id and many recipients reaches each recipient's row.
 */
describe('provider batches (lifecycle)', () => {
  const name = `${databasePrefix()}_pb_${randomBytes(4).toString('hex')}`;
  let db: DataSource;
  let lifecycle: MessageLifecycleRepository;
  let queries: MessageQueriesRepository;
  let seq = 0;
  const LEASE_1 = randomUUID();
  const LEASE_2 = randomUUID();

  beforeAll(async () => {
    await createDatabase(PG_ADMIN_URL, name, templateDatabase());
    db = new DataSource(databaseOptions(databaseUrl(name)));
    await db.initialize();
    const metrics = new MetricsService();
    lifecycle = new MessageLifecycleRepository(db, metrics);
    queries = new MessageQueriesRepository(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(PG_ADMIN_URL, name);
  });

  const number = (): string => `+1415${String(5_550_000 + ++seq).padStart(7, '0')}`;

  async function insert(
    count: number,
    overrides: Partial<StoredNewMessage> = {},
  ): Promise<StoredNewMessage[]> {
    const [n] = await db.query<{ id: string }[]>(
      `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
       VALUES ('alpha', 'tpl', 1, 'normal', $1) RETURNING id`,
      [count],
    );
    const rows = Array.from({ length: count }, (): StoredNewMessage => ({
      id: randomUUID(),
      notificationId: n.id,
      recipient: number(),
      body: 'Your code is 1234',
      senderId: null,
      characters: 17,
      encoding: 'GSM-7',
      segments: 1,
      status: 'pending',
      priority: 2,
      scheduledAt: null,
      expiresAt: null,
      category: 'transactional',
      timezone: null,
      team: 'alpha',
      nextAttemptAt: new Date(),
      ...overrides,
    }));
    await db.transaction((manager) => lifecycle.insertNew(manager, rows));
    return rows;
  }

  async function lead(row: StoredNewMessage): Promise<{ leader: Message; token: string }> {
    const token = randomUUID();
    const claimed = await lifecycle.claim(row.id, token, LEASE_1);
    if (!claimed || !('message' in claimed)) throw new Error('leader not claimed');
    return { leader: claimed.message, token };
  }

  const window = { max: 99, windowMs: 250 };

  it('takes the waiting messages with the same text, sender, category, priority, team and zone, each recipient once', async () => {
    const body = `Sale ${randomUUID()}`;
    const same = await insert(5, { body });
    const other = [
      ...(await insert(1, { body, senderId: 'Other' })),
      ...(await insert(1, { body, category: 'marketing' })),
      ...(await insert(1, { body, priority: 1 })),
      ...(await insert(1, { body, team: 'beta' })),
      ...(await insert(1, { body, timezone: 'Asia/Tokyo' })),
      ...(await insert(1, { body: `${body}!` })),
      // Due later than the window.
      ...(await insert(1, { body, nextAttemptAt: new Date(Date.now() + 60_000) })),
      // Already past its validity.
      ...(await insert(1, { body, expiresAt: new Date(Date.now() - 1000) })),
      // The leader's own recipient, and a second message to one of the mates' numbers.
      ...(await insert(1, { body, recipient: same[0].recipient })),
      ...(await insert(1, { body, recipient: same[1].recipient })),
    ];
    const { leader, token } = await lead(same[0]);
    const mates = await lifecycle.claimMates(leader, token, LEASE_1, window);
    expect(mates.map((m) => m.id).sort()).toEqual(
      same
        .slice(1)
        .map((m) => m.id)
        .sort(),
    );
    for (const mate of mates) {
      expect(mate.claimToken).toBe(token);
      expect(mate.attempts).toBe(1);
    }
    for (const row of other) {
      expect((await queries.findById(row.id))?.claimedAt).toBeNull();
    }
  });

  it('takes at most max, and none that another worker holds', async () => {
    const body = `Notice ${randomUUID()}`;
    const rows = await insert(10, { body });
    const held = randomUUID();
    expect(await lifecycle.claim(rows[9].id, held, LEASE_2)).toBeTruthy();
    const { leader, token } = await lead(rows[0]);
    const mates = await lifecycle.claimMates(leader, token, LEASE_1, { max: 5, windowMs: 250 });
    expect(mates).toHaveLength(5);
    expect(mates.map((m) => m.id)).not.toContain(rows[9].id);
    const rest = await lifecycle.claimMates(leader, token, LEASE_1, window);
    const first = new Set(mates.map((m) => m.id));
    expect(rest.map((m) => m.id).sort()).toEqual(
      rows
        .slice(1, 9)
        .map((m) => m.id)
        .filter((id) => !first.has(id))
        .sort(),
    );
  });

  it('moves a scheduled message due within the window to pending on its timeline, and leaves a suppressed one', async () => {
    const body = `Reminder ${randomUUID()}`;
    const [first] = await insert(1, { body });
    const [scheduled] = await insert(1, {
      body,
      status: 'scheduled',
      scheduledAt: new Date(Date.now() + 100),
      nextAttemptAt: new Date(Date.now() + 100),
    });
    const [suppressed] = await insert(1, { body });
    await db.query(
      `INSERT INTO suppressions (recipient, scope, reason) VALUES ($1, 'all', 'stop')`,
      [suppressed.recipient],
    );
    const { leader, token } = await lead(first);
    const mates = await lifecycle.claimMates(leader, token, LEASE_1, window);
    expect(mates.map((m) => m.id)).toEqual([scheduled.id]);
    expect(mates[0].status).toBe('pending');
    const timeline = await db.query<{ type: string; status_change: boolean }[]>(
      `SELECT type, status_change FROM message_events WHERE message_id = $1 ORDER BY id`,
      [scheduled.id],
    );
    expect(timeline.map((e) => e.type)).toEqual(['scheduled', 'pending']);
    expect((await queries.findById(suppressed.id))?.claimedAt).toBeNull();
  });

  it('lets two leaders race for the same waiting messages: each message joins one request', async () => {
    const body = `Race ${randomUUID()}`;
    const rows = await insert(60, { body });
    const a = await lead(rows[0]);
    const b = await lead(rows[1]);
    const [matesA, matesB] = await Promise.all([
      lifecycle.claimMates(a.leader, a.token, LEASE_1, window),
      lifecycle.claimMates(b.leader, b.token, LEASE_2, window),
    ]);
    const taken = [...matesA, ...matesB].map((m) => m.id);
    expect(new Set(taken).size).toBe(taken.length);
    expect(taken.sort()).toEqual(
      rows
        .slice(2)
        .map((m) => m.id)
        .sort(),
    );
  });

  it('records one provider id for every recipient, and applies news to the recipient it names', async () => {
    const body = `Batch ${randomUUID()}`;
    const rows = await insert(3, { body });
    const { leader, token } = await lead(rows[0]);
    const mates = await lifecycle.claimMates(leader, token, LEASE_1, window);
    const ids = [leader, ...mates].map((m) => m.id);
    const providerId = `msg_${randomBytes(6).toString('hex')}`;
    const { changed } = await lifecycle.transition(
      { ids, claimToken: token },
      {
        to: 'queued',
        source: 'worker',
        accepted: { providerMessageId: providerId, creditsUsed: 1, creditsRemaining: 10 },
      },
    );
    expect(changed).toHaveLength(3);
    const news = (recipient: string | null, to: 'sent' | 'delivered' | 'failed') => ({
      providerMessageId: providerId,
      recipient,
      to,
      occurredAt: new Date(),
      sentAt: null,
      deliveredAt: null,
      error: to === 'failed' ? { code: 'carrier_rejected', message: null } : null,
    });
    const results = await lifecycle.applyProviderUpdates(
      [
        news(rows[0].recipient, 'sent'),
        news(rows[0].recipient, 'delivered'),
        news(rows[1].recipient, 'failed'),
        // Replayed, out of order: changes nothing.
        news(rows[0].recipient, 'sent'),
        // Names no recipient of a batch: ambiguous, so it moves nothing.
        news(null, 'delivered'),
      ],
      'webhook',
    );
    expect(results.map((r) => [r.matched, r.changed?.status ?? null])).toEqual([
      [true, 'sent'],
      [true, 'delivered'],
      [true, 'failed'],
      [true, null],
      [false, null],
    ]);
    const statuses = await Promise.all(
      rows.map(async (r) => (await queries.findById(r.id))?.status),
    );
    expect(statuses).toEqual(['delivered', 'failed', 'queued']);
  });

  it('applies news without a recipient to a message whose provider id is its own', async () => {
    const [row] = await insert(1, { body: `Solo ${randomUUID()}` });
    const { token } = await lead(row);
    const providerId = `msg_${randomBytes(6).toString('hex')}`;
    await lifecycle.move(
      { id: row.id, claimToken: token },
      {
        to: 'queued',
        source: 'worker',
        accepted: { providerMessageId: providerId, creditsUsed: 1, creditsRemaining: 10 },
      },
    );
    const { changed } = await lifecycle.transition(
      { providerMessageId: providerId, recipient: null },
      { to: 'delivered', source: 'poll', fromProvider: true },
    );
    expect(changed.map((m) => m.id)).toEqual([row.id]);
  });
});
