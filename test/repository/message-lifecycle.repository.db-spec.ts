import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDatabase, dropDatabase } from '../../tools/stack/database';
import { databasePrefix, databaseUrl, PG_ADMIN_URL, templateDatabase } from '../support/test-env';
import { databaseOptions } from '../../apps/notification-service/src/database/database-options';
import { MetricsService } from '../../apps/notification-service/src/metrics/metrics.service';
import {
  MessageLifecycleRepository,
  type ProviderChange,
  type StoredNewMessage,
} from '../../apps/notification-service/src/delivery-status/message-lifecycle.repository';
import {
  canTransition,
  isTerminal,
  MESSAGE_STATUSES,
  type MessageStatus,
  UNSENT_STATUSES,
} from '../../apps/notification-service/src/delivery-status/message-status';

/**
 * The lifecycle's statements against a real PostgreSQL database (a clone of the migrated
 * template): the rules of message-status.ts hold in SQL, under replays, out-of-order news and
 * concurrent writers.
 */
describe(MessageLifecycleRepository.name, () => {
  const name = `${databasePrefix()}_lc_${randomBytes(4).toString('hex')}`;
  let db: DataSource;
  let lifecycle: MessageLifecycleRepository;

  beforeAll(async () => {
    await createDatabase(PG_ADMIN_URL, name, templateDatabase());
    db = new DataSource(databaseOptions(databaseUrl(name)));
    await db.initialize();
    lifecycle = new MessageLifecycleRepository(db, new MetricsService());
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(PG_ADMIN_URL, name);
  });

  async function newMessage(
    status: MessageStatus = 'pending',
    notification: { callbackUrl?: string } = {},
  ): Promise<string> {
    const [n] = await db.query<{ id: string }[]>(
      `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count, callback_url)
       VALUES ('alpha', 'tpl', 1, 'normal', 1, $1) RETURNING id`,
      [notification.callbackUrl ?? null],
    );
    const fields: StoredNewMessage = {
      id: randomUUID(),
      notificationId: n.id,
      recipient: `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`,
      body: 'Hello',
      senderId: null,
      characters: 5,
      encoding: 'GSM-7',
      segments: 1,
      status: UNSENT_STATUSES.includes(status) ? status : 'pending',
      priority: 2,
      scheduledAt: null,
      expiresAt: null,
      category: 'transactional',
      timezone: null,
      team: 'alpha',
      nextAttemptAt: new Date(),
    };
    await db.transaction((manager) => lifecycle.insertNew(manager, [fields]));
    // Any other starting state is a fixture: put there by hand, not by a move under test.
    if (fields.status !== status) {
      await db.query(`UPDATE messages SET status = $2 WHERE id = $1`, [fields.id, status]);
    }
    return fields.id;
  }

  const statusOf = async (id: string): Promise<MessageStatus> =>
    (
      await db.query<{ status: MessageStatus }[]>(`SELECT status FROM messages WHERE id = $1`, [id])
    )[0].status;

  const eventsOf = (id: string) =>
    db.query<{ type: string; status: string; status_change: boolean; details: unknown }[]>(
      `SELECT type, status, status_change, details FROM message_events WHERE message_id = $1 ORDER BY id`,
      [id],
    );

  describe('every move between two statuses', () => {
    const pairs = MESSAGE_STATUSES.flatMap((from) => MESSAGE_STATUSES.map((to) => [from, to]));
    it.each(pairs as [MessageStatus, MessageStatus][])(
      '%s → %s happens exactly when message-status.ts allows it',
      async (from, to) => {
        const id = await newMessage(from);
        const before = (await eventsOf(id)).length;
        const { matched, changed } = await lifecycle.transition({ id }, { to, source: 'api' });
        const allowed = canTransition(from, to);
        expect(matched).toBe(1);
        expect(changed.map((m) => m.status)).toEqual(allowed ? [to] : []);
        expect(await statusOf(id)).toBe(allowed ? to : from);
        const events = await eventsOf(id);
        expect(events.length - before).toBe(allowed ? 1 : 0);
        if (allowed) {
          expect(events[events.length - 1]).toMatchObject({
            type: to,
            status: to,
            status_change: true,
          });
        }
      },
    );
  });

  it('stamps the times and the end of a message once, whatever comes after', async () => {
    const id = await newMessage('queued');
    const deliveredAt = new Date('2026-01-02T03:04:05.000Z');
    const moved = await lifecycle.move(
      { id },
      { to: 'delivered', source: 'webhook', occurredAt: deliveredAt, deliveredAt },
    );
    expect(moved).toMatchObject({ status: 'delivered', deliveredAt, sentAt: deliveredAt });
    expect(moved?.completedAt).toBeInstanceOf(Date);
    // A late "sent" from the provider is out of order: acknowledged, nothing changes.
    expect(await lifecycle.move({ id }, { to: 'sent', source: 'webhook' })).toBeNull();
    expect(await statusOf(id)).toBe('delivered');
  });

  it('applies a replayed provider event once: one timeline row per dedupe key', async () => {
    const id = await newMessage('queued');
    const change = { to: 'sent' as const, source: 'webhook' as const, dedupeKey: 'provider:sent' };
    expect((await lifecycle.transition({ id }, change)).changed).toHaveLength(1);
    expect((await lifecycle.transition({ id }, change)).changed).toHaveLength(0);
    expect((await eventsOf(id)).filter((e) => e.type === 'sent')).toHaveLength(1);
  });

  it('finds messages by provider id and tells an unknown id from a known one that did not move', async () => {
    const id = await newMessage('pending');
    const token = randomUUID();
    await lifecycle.claim(id, token, randomUUID());
    await lifecycle.move(
      { id, claimToken: token },
      {
        to: 'queued',
        source: 'worker',
        accepted: { providerMessageId: `msg_${id}`, creditsUsed: 1, creditsRemaining: 9 },
      },
    );
    const unknown = await lifecycle.transition(
      { providerMessageId: 'msg_nobody' },
      { to: 'sent', source: 'webhook' },
    );
    expect(unknown.matched).toBe(0);
    const first = await lifecycle.transition(
      { providerMessageId: `msg_${id}` },
      { to: 'delivered', source: 'webhook' },
    );
    expect(first).toMatchObject({ matched: 1, changed: [{ status: 'delivered' }] });
    const again = await lifecycle.transition(
      { providerMessageId: `msg_${id}` },
      { to: 'delivered', source: 'webhook' },
    );
    expect(again).toEqual({ matched: 1, changed: [] });
  });

  it('moves a claimed message only for the claim that holds it, and releases the claim on hand-over', async () => {
    const id = await newMessage('pending');
    const token = randomUUID();
    const owner = randomUUID();
    expect(await lifecycle.claim(id, token, owner)).toMatchObject({
      message: { claimOwner: owner, attempts: 1 },
    });
    // A second claim, or a move under another token, does nothing.
    expect(await lifecycle.claim(id, randomUUID(), owner)).toBeNull();
    expect(
      await lifecycle.move({ id, claimToken: randomUUID() }, { to: 'failed', source: 'worker' }),
    ).toBeNull();
    // Cancel never takes a message a worker holds.
    expect(
      await lifecycle.move({ id, unclaimed: true }, { to: 'canceled', source: 'api' }),
    ).toBeNull();

    const queued = await lifecycle.move(
      { id, claimToken: token },
      {
        to: 'queued',
        source: 'worker',
        accepted: { providerMessageId: `p_${id}`, creditsUsed: 2, creditsRemaining: 8 },
        withAttempt: true,
      },
    );
    expect(queued).toMatchObject({
      status: 'queued',
      providerMessageId: `p_${id}`,
      creditsUsed: 2,
      claimedAt: null,
      claimToken: null,
      claimOwner: null,
    });
    expect((await eventsOf(id)).pop()).toMatchObject({ type: 'queued', details: { attempt: 1 } });
  });

  describe('provider news in a batch', () => {
    /** A message the provider took, known by its provider id. */
    async function handedOver(): Promise<{ id: string; providerId: string }> {
      const id = await newMessage('queued');
      const providerId = `msg_${id}`;
      await db.query(`UPDATE messages SET provider_message_id = $2 WHERE id = $1`, [
        id,
        providerId,
      ]);
      return { id, providerId };
    }
    /** Many of them at once, by SQL: the lifecycle's own moves are what is under test. */
    async function handedOverMany(count: number): Promise<{ id: string; providerId: string }[]> {
      const [n] = await db.query<{ id: string }[]>(
        `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
         VALUES ('alpha', 'tpl', 1, 'normal', $1) RETURNING id`,
        [count],
      );
      return db.query(
        `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
           status, priority, provider_message_id)
         SELECT $1, '+14155550100', 'Hello', 5, 'GSM-7', 1, 'queued', 2, 'msg_bulk_' || gen_random_uuid()
         FROM generate_series(1, $2)
         RETURNING id, provider_message_id AS "providerId"`,
        [n.id, count],
      );
    }
    const at = new Date('2026-03-04T05:06:07.000Z');
    const news = (
      providerMessageId: string,
      to: MessageStatus,
      error: ProviderChange['error'] = null,
    ) => ({
      providerMessageId,
      to,
      occurredAt: at,
      sentAt: null,
      deliveredAt: null,
      error,
    });

    it('moves each message as one transition would, in one transaction, and says what it did', async () => {
      const [a, b, c] = [await handedOver(), await handedOver(), await handedOver()];
      const results = await lifecycle.applyProviderUpdates(
        [
          news(a.providerId, 'delivered'),
          news(b.providerId, 'failed', { code: 'carrier_rejected', message: 'Rejected' }),
          news('msg_nobody', 'delivered'),
          news(a.providerId, 'delivered'),
          news(c.providerId, 'sent'),
          news(c.providerId, 'delivered'),
        ],
        'webhook',
      );
      expect(results.map((r) => [r.matched, r.changed?.status ?? null])).toEqual([
        [true, 'delivered'],
        [true, 'failed'],
        [false, null],
        [true, null],
        [true, 'sent'],
        [true, 'delivered'],
      ]);
      expect(await statusOf(a.id)).toBe('delivered');
      expect((await eventsOf(a.id)).filter((e) => e.type === 'delivered')).toHaveLength(1);
      const [failed] = await db.query<{ error_code: string; completed_at: Date | null }[]>(
        `SELECT error_code, completed_at FROM messages WHERE id = $1`,
        [b.id],
      );
      expect(failed.error_code).toBe('carrier_rejected');
      expect(failed.completed_at).not.toBeNull();
      expect((await eventsOf(b.id)).at(-1)).toMatchObject({
        type: 'failed',
        details: { error: { code: 'carrier_rejected', message: 'Rejected' } },
      });
      const [delivered] = await db.query<{ sent_at: Date; delivered_at: Date }[]>(
        `SELECT sent_at, delivered_at FROM messages WHERE id = $1`,
        [c.id],
      );
      expect(delivered).toEqual({ sent_at: at, delivered_at: at });
      expect((await eventsOf(c.id)).map((e) => e.type)).toEqual(['accepted', 'sent', 'delivered']);
    });

    it('lets concurrent batches naming the same messages in opposite orders both commit', async () => {
      const messages = await handedOverMany(1000);
      const ids = messages.map((m) => m.providerId);
      const [sent, delivered] = await Promise.all([
        lifecycle.applyProviderUpdates(
          ids.map((id) => news(id, 'sent')),
          'webhook',
        ),
        lifecycle.applyProviderUpdates(
          [...ids].reverse().map((id) => news(id, 'delivered')),
          'webhook',
        ),
      ]);
      expect([...sent, ...delivered].every((r) => r.matched)).toBe(true);
      const statuses = await Promise.all(messages.map((m) => statusOf(m.id)));
      expect(statuses).toEqual(messages.map(() => 'delivered'));
    });

    it('never moves a message backwards, whatever the order in the batch', async () => {
      const m = await handedOver();
      const results = await lifecycle.applyProviderUpdates(
        [news(m.providerId, 'delivered'), news(m.providerId, 'sent')],
        'webhook',
      );
      expect(results.map((r) => r.changed?.status ?? null)).toEqual(['delivered', null]);
      expect(await statusOf(m.id)).toBe('delivered');
    });
  });

  it('records a failure on the message and on its timeline row, where the callback reads it', async () => {
    const id = await newMessage('pending', { callbackUrl: 'https://example.test/hook' });
    await lifecycle.move(
      { id },
      { to: 'failed', source: 'worker', error: { code: 'invalid_phone_number', message: null } },
    );
    const [row] = await db.query<{ error_code: string }[]>(
      `SELECT error_code FROM messages WHERE id = $1`,
      [id],
    );
    expect(row.error_code).toBe('invalid_phone_number');
    const [callback] = await db.query<{ payload: Record<string, unknown> }[]>(
      `SELECT payload FROM callback_deliveries WHERE message_id = $1`,
      [id],
    );
    expect(callback.payload).toMatchObject({
      event: 'message.failed',
      status: 'failed',
      error: { code: 'invalid_phone_number', message: 'invalid_phone_number' },
    });
  });

  it('creates a callback for status changes only, not for other timeline rows', async () => {
    const id = await newMessage('pending', { callbackUrl: 'https://example.test/hook' });
    await lifecycle.addEvent(id, 'attempt_failed', 'worker', { code: 'server_error' });
    await lifecycle.move({ id }, { to: 'canceled', source: 'api' });
    const rows = await db.query<{ event: string }[]>(
      `SELECT payload->>'event' AS event FROM callback_deliveries WHERE message_id = $1`,
      [id],
    );
    expect(rows).toEqual([{ event: 'message.canceled' }]);
  });

  it('expires in batches only what the selector names, skipping claimed and handed-over messages', async () => {
    const past = await newMessage('pending');
    const claimed = await newMessage('pending');
    const handedOver = await newMessage('queued');
    const future = await newMessage('scheduled');
    await db.query(
      `UPDATE messages SET expires_at = now() - interval '1 second' WHERE id = ANY($1)`,
      [[past, claimed, handedOver]],
    );
    await db.query(`UPDATE messages SET expires_at = now() + interval '1 hour' WHERE id = $1`, [
      future,
    ]);
    await db.query(`UPDATE messages SET claimed_at = now(), claim_token = $2 WHERE id = $1`, [
      claimed,
      randomUUID(),
    ]);
    const { changed } = await lifecycle.transition(
      { pastExpiry: true, unclaimed: true, from: UNSENT_STATUSES, limit: 1000 },
      { to: 'expired', source: 'sweeper', error: { code: 'expired', message: 'too late' } },
    );
    expect(changed.map((m) => m.id)).toEqual([past]);
    expect([await statusOf(claimed), await statusOf(handedOver), await statusOf(future)]).toEqual([
      'pending',
      'queued',
      'scheduled',
    ]);
  });

  it('releases the claims of a lapsed lease, and only those', async () => {
    const dead = randomUUID();
    const alive = randomUUID();
    await db.query(
      `INSERT INTO worker_leases (id, host, pid, expires_at) VALUES
         ($1, 'h', 1, now() - interval '1 second'), ($2, 'h', 2, now() + interval '1 minute')`,
      [dead, alive],
    );
    const ofDead = await newMessage('pending');
    const ofAlive = await newMessage('pending');
    await lifecycle.claim(ofDead, randomUUID(), dead);
    await lifecycle.claim(ofAlive, randomUUID(), alive);
    const released = await lifecycle.releaseClaims(
      { ownerLeaseLapsed: true },
      { countsAsAttempt: true },
      { type: 'claim_released', source: 'sweeper', details: {} },
    );
    expect(released.map((r) => r.id)).toEqual([ofDead]);
    expect(released[0].dispatchSeq).toBe(1);
    const [row] = await db.query<{ claimed_at: Date | null; attempts: number }[]>(
      `SELECT claimed_at, attempts FROM messages WHERE id = $1`,
      [ofDead],
    );
    expect(row).toEqual({ claimed_at: null, attempts: 1 });
    expect((await eventsOf(ofDead)).pop()).toMatchObject({
      type: 'claim_released',
      status_change: false,
    });
  });

  it('lets concurrent writers move a message forward only, each status at most once', async () => {
    const targets: MessageStatus[] = [
      'sent',
      'delivered',
      'failed',
      'expired',
      'sent',
      'delivered',
    ];
    for (let round = 0; round < 10; round++) {
      const id = await newMessage('queued');
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          lifecycle.move({ id }, { to: targets[i % targets.length], source: 'webhook' }),
        ),
      );
      const moves = results.filter((m) => m !== null).map((m) => m.status);
      const final = await statusOf(id);
      expect(isTerminal(final)).toBe(true);
      // Exactly one final state won; before it, at most a "sent".
      expect(moves.filter(isTerminal)).toEqual([final]);
      expect(moves.filter((s) => s === 'sent').length).toBeLessThanOrEqual(1);
      const timeline = (await eventsOf(id)).filter((e) => e.status_change).map((e) => e.type);
      expect([...timeline].sort()).toEqual([...moves].sort());
      for (let i = 1; i < timeline.length; i++) {
        expect(canTransition(timeline[i - 1] as MessageStatus, timeline[i] as MessageStatus)).toBe(
          true,
        );
      }
    }
  });

  it('claims no message the suppression list now stops for its category, and says so', async () => {
    const transactional = await newMessage('pending');
    const [{ recipient }] = await db.query<{ recipient: string }[]>(
      `SELECT recipient FROM messages WHERE id = $1`,
      [transactional],
    );
    await db.query(`INSERT INTO suppressions (recipient, scope) VALUES ($1, 'marketing')`, [
      recipient,
    ]);
    // Scope marketing leaves a transactional message alone; scope all stops it.
    expect(await lifecycle.claim(transactional, randomUUID(), randomUUID())).toHaveProperty(
      'message',
    );
    const next = await newMessage('pending');
    await db.query(`UPDATE messages SET recipient = $2 WHERE id = $1`, [next, recipient]);
    await db.query(`INSERT INTO suppressions (recipient, scope) VALUES ($1, 'all')`, [recipient]);
    expect(await lifecycle.claim(next, randomUUID(), randomUUID())).toEqual({ suppressed: true });
    const [row] = await db.query<{ claimed_at: Date | null; attempts: number }[]>(
      `SELECT claimed_at, attempts FROM messages WHERE id = $1`,
      [next],
    );
    expect(row).toEqual({ claimed_at: null, attempts: 0 });
    // A one-time code is never suppressed; a removed entry stops nothing.
    const otp = await newMessage('pending');
    await db.query(`UPDATE messages SET recipient = $2, category = 'otp' WHERE id = $1`, [
      otp,
      recipient,
    ]);
    expect(await lifecycle.claim(otp, randomUUID(), randomUUID())).toHaveProperty('message');
    await db.query(`UPDATE suppressions SET removed_at = now() WHERE recipient = $1`, [recipient]);
    expect(await lifecycle.claim(next, randomUUID(), randomUUID())).toHaveProperty('message');
  });

  it('defers an unclaimed message to a later time with a new job id, and records why', async () => {
    const id = await newMessage('pending');
    const until = new Date(Date.now() + 3_600_000);
    const ref = await lifecycle.defer(id, until, { reason: 'quiet_hours' });
    expect(ref).toEqual({ id, dispatchSeq: 1, priority: 2, nextAttemptAt: until, team: 'alpha' });
    const events = await db.query<{ type: string; details: unknown }[]>(
      `SELECT type, details FROM message_events WHERE message_id = $1 ORDER BY id`,
      [id],
    );
    expect(events.at(-1)).toEqual({ type: 'deferred', details: { reason: 'quiet_hours' } });
    // Deferred again for the same reason: moved, but the timeline says it once.
    const later = new Date(until.getTime() + 60_000);
    expect(await lifecycle.defer(id, later, { reason: 'quiet_hours' })).toMatchObject({
      dispatchSeq: 2,
      nextAttemptAt: later,
    });
    const [{ n }] = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM message_events WHERE message_id = $1 AND type = 'deferred'`,
      [id],
    );
    expect(n).toBe(1);
    // A hold leaves the scheduled time the caller asked for.
    await lifecycle.defer(id, until, { reason: 'budget_exceeded' }, { reschedule: false });
    const [row] = await db.query<{ scheduled_at: Date | null }[]>(
      `SELECT scheduled_at FROM messages WHERE id = $1`,
      [id],
    );
    expect(row.scheduled_at).toEqual(later);
    // A claimed message is being sent: it is not moved.
    await lifecycle.claim(id, randomUUID(), randomUUID());
    expect(await lifecycle.defer(id, until, { reason: 'quiet_hours' })).toBeNull();
  });

  it('lets two claims race for one message: exactly one wins', async () => {
    const id = await newMessage('pending');
    const claims = await Promise.all(
      Array.from({ length: 16 }, () => lifecycle.claim(id, randomUUID(), randomUUID())),
    );
    expect(claims.filter((c) => c !== null)).toHaveLength(1);
  });
});
