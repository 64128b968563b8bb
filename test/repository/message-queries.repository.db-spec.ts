import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDatabase, dropDatabase } from '../../tools/stack/database';
import { databasePrefix, databaseUrl, PG_ADMIN_URL, templateDatabase } from '../support/test-env';
import { databaseOptions } from '../../apps/notification-service/src/database/database-options';
import { MessageLifecycleRepository } from '../../apps/notification-service/src/delivery-status/message-lifecycle.repository';
import { MessageQueriesRepository } from '../../apps/notification-service/src/delivery-status/message-queries.repository';
import { MetricsService } from '../../apps/notification-service/src/metrics/metrics.service';

const MINUTE = 60_000;

/** The named reads of messages against a real PostgreSQL database (a clone of the migrated template). */
describe(MessageQueriesRepository.name, () => {
  const name = `${databasePrefix()}_mq_${randomBytes(4).toString('hex')}`;
  let db: DataSource;
  let queries: MessageQueriesRepository;
  let lifecycle: MessageLifecycleRepository;
  const now = new Date('2026-06-01T12:00:00Z');

  beforeAll(async () => {
    await createDatabase(PG_ADMIN_URL, name, templateDatabase());
    db = new DataSource(databaseOptions(databaseUrl(name)));
    await db.initialize();
    queries = new MessageQueriesRepository(db);
    lifecycle = new MessageLifecycleRepository(db, new MetricsService());
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(PG_ADMIN_URL, name);
  });
  beforeEach(() => db.query(`DELETE FROM messages`));

  async function notification(): Promise<string> {
    const [n] = await db.query<{ id: string }[]>(
      `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
       VALUES ('alpha', 'tpl', 1, 'normal', 1) RETURNING id`,
    );
    return n.id;
  }

  /** A handed-over message quiet for `quietMin`, last polled `checkedMin` ago (or never). */
  async function message(quietMin: number, checkedMin: number | null, status = 'queued') {
    const at = (min: number | null) =>
      min === null ? null : new Date(now.getTime() - min * MINUTE);
    const [m] = await db.query<{ id: string }[]>(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
                             status, priority, provider_message_id, updated_at, last_checked_at)
       VALUES ($1, '+14155550100', 'x', 1, 'GSM-7', 1, $2, 2, $3, $4, $5) RETURNING id`,
      [
        await notification(),
        status,
        `msg_${randomBytes(4).toString('hex')}`,
        at(quietMin),
        at(checkedMin),
      ],
    );
    return m.id;
  }

  const due = async () =>
    new Set((await queries.findDueForPoll(now, MINUTE, 100)).map((m) => m.id));

  describe('the poll schedule: first after a minute of silence, then 2, 5, 15, 60 min, hourly', () => {
    it('polls first after a minute of silence, not before', async () => {
      const quiet59s = await message(59 / 60, null);
      const quiet61s = await message(61 / 60, null);
      const found = await due();
      expect(found.has(quiet61s)).toBe(true);
      expect(found.has(quiet59s)).toBe(false);
    });

    it.each([
      // quiet for, last checked ago, due?
      [1.5, 0.4, false], // polled at 1.1 min: next at 2
      [2.1, 0.9, true], // polled at 1.2 min: 2 has passed
      [4.5, 2, false], // polled at 2.5: next at 5
      [5.5, 1, true], // polled at 4.5: 5 has passed
      [14, 8, false], // polled at 6: next at 15
      [16, 2, true], // polled at 14: 15 has passed
      [59, 40, false], // polled at 19: next at 60
      [61, 10, true], // polled at 51: 60 has passed
      [119, 50, false], // polled at 69: next at 120
      [121, 50, true], // polled at 71: 120 has passed
    ])('quiet %d min, checked %d min ago: due %s', async (quiet, checked, expected) => {
      const id = await message(quiet, checked);
      expect((await due()).has(id)).toBe(expected);
    });

    it('leaves out messages without a provider id or in a final state', async () => {
      const delivered = await message(10, null, 'delivered');
      const found = await due();
      expect(found.has(delivered)).toBe(false);
    });

    it('puts the most overdue first and honours the limit', async () => {
      const recent = await message(1.5, null);
      const old = await message(30, null);
      const first = await queries.findDueForPoll(now, MINUTE, 1);
      expect(first.map((m) => m.id)).toEqual([old]);
      expect((await due()).has(recent)).toBe(true);
    });
    it('names each provider request once, however many of its recipients are due', async () => {
      const n = await notification();
      const rows = await db.query<{ id: string }[]>(
        `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
                               status, priority, provider_message_id, updated_at)
         SELECT $1, '+1415555' || lpad(i::text, 4, '0'), 'x', 1, 'GSM-7', 1, 'queued', 2,
           'msg_batch', $2
         FROM generate_series(1, 5) i RETURNING id`,
        [n, new Date(now.getTime() - 10 * MINUTE)],
      );
      const single = await message(3, null);
      const found = await queries.findDueForPoll(now, MINUTE, 100);
      expect(found.filter((m) => m.providerMessageId === 'msg_batch')).toHaveLength(1);
      expect(rows.map((r) => r.id)).toContain(
        found.find((m) => m.providerMessageId === 'msg_batch')?.id,
      );
      expect(found.map((m) => m.id)).toContain(single);
      // The most overdue first: the batch has been quiet longest.
      expect(found[0].providerMessageId).toBe('msg_batch');
    });

    it('is not due again once the lifecycle records the poll', async () => {
      const quiet = await message(10, null);
      await db.query(
        `UPDATE messages SET updated_at = now() - interval '10 minutes' WHERE id = $1`,
        [quiet],
      );
      const polled = new Date();
      expect((await queries.findDueForPoll(polled, MINUTE, 100)).map((m) => m.id)).toContain(quiet);
      await lifecycle.markChecked(quiet);
      expect((await queries.findDueForPoll(polled, MINUTE, 100)).map((m) => m.id)).not.toContain(
        quiet,
      );
    });
  });

  describe('backlog', () => {
    /** A message in `status`, due `dueInMin` from now (negative: overdue). */
    async function waiting(status: string, dueInMin: number, claimed = false) {
      await db.query(
        `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
                               status, priority, next_attempt_at, claimed_at)
         VALUES ($1, '+14155550100', 'x', 1, 'GSM-7', 1, $2, 2,
                 now() + $3 * interval '1 minute', CASE WHEN $4 THEN now() END)`,
        [await notification(), status, dueInMin, claimed],
      );
    }

    it('counts each unfinished status once, a claimed message still pending', async () => {
      await waiting('scheduled', 30);
      await waiting('scheduled', 2);
      await waiting('scheduled', -5);
      await waiting('pending', -3);
      await waiting('pending', 10);
      await waiting('pending', -1, true);
      await message(1, null, 'queued');
      await message(1, null, 'sent');
      await message(1, null, 'delivered');

      const backlog = await queries.backlog(5 * MINUTE);
      expect(backlog.byStatus).toEqual({ scheduled: 3, pending: 3, queued: 1, sent: 1 });
      expect(backlog.scheduledDueSoon).toBe(2);
      expect(backlog.pendingDue).toBe(1);
      expect(backlog.claimed).toBe(1);
      // Measured from acceptance (these were all accepted just now), not from the next attempt.
      expect(backlog.oldestPendingSeconds).toBeLessThan(60);
      expect(backlog.scheduledOverdueSeconds).toBeGreaterThanOrEqual(5 * 60);
      expect(backlog.scheduledOverdueSeconds).toBeLessThan(6 * 60);
    });

    it('ages the oldest unsent message from when it became due, whatever its back-offs', async () => {
      /** Accepted `acceptedMin` ago, scheduled for `scheduledMin` (null: at once), next try later. */
      const unsent = async (status: string, acceptedMin: number, scheduledMin: number | null) => {
        const [{ id }] = await db.query<{ id: string }[]>(
          `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
                                 status, priority, submitted_at, scheduled_at, next_attempt_at)
           VALUES ($1, '+14155550100', 'x', 1, 'GSM-7', 1, $2, 2,
                   now() - $3 * interval '1 minute',
                   now() + $4 * interval '1 minute', now() + interval '5 seconds')
           RETURNING id`,
          [await notification(), status, acceptedMin, scheduledMin],
        );
        return id;
      };
      // Backed off after a provider failure: 7 minutes since acceptance, its next try ahead.
      const retried = await unsent('pending', 7, null);
      /** As releaseClaims and defer leave a message: a new dispatch sequence and why. */
      const givenBack = async (id: string, type: string) => {
        await db.query(`UPDATE messages SET dispatch_seq = dispatch_seq + 1 WHERE id = $1`, [id]);
        await db.query(
          `INSERT INTO message_events (message_id, type, status, source)
           VALUES ($1, $2, 'pending', 'worker')`,
          [id, type],
        );
      };
      await givenBack(retried, 'provider_failed');
      // Held for its team's budget or quiet hours: waiting, but not after a provider error.
      await givenBack(await unsent('pending', 1, null), 'deferred');
      // Accepted 20 minutes ago for 4 minutes ago: due for 4 minutes only.
      await unsent('pending', 20, -4);
      // Accepted long ago for later: not due, so not waiting.
      await unsent('scheduled', 60, 10);
      const backlog = await queries.backlog();
      expect(backlog.oldestPendingSeconds).toBeGreaterThanOrEqual(7 * 60);
      expect(backlog.oldestPendingSeconds).toBeLessThan(8 * 60);
      expect(backlog.inRetry).toBe(1);
    });

    it("gives each account its hand-overs and credits, an account from before accounts as the default's", async () => {
      /** Handed over `agoSec` seconds ago through `account`, which then had `credits` left. */
      const handedOver = async (account: string | null, agoSec: number, credits: number) =>
        db.query(
          `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
                                 status, priority, provider_message_id, provider_account,
                                 queued_at, credits_remaining)
           VALUES ($1, '+14155550100', 'x', 1, 'GSM-7', 1, 'queued', 2, $2, $3,
                   now() - $4 * interval '1 second', $5)`,
          [await notification(), `msg_${randomBytes(4).toString('hex')}`, account, agoSec, credits],
        );
      await handedOver('backup', 2, 700);
      await handedOver('backup', 30, 701);
      await handedOver(null, 5, 90);
      await handedOver('default', 40, 95);
      await handedOver('default', 600, 99);

      const accounts = await queries.byAccount(['default', 'backup', 'idle'], 'default');
      expect(
        accounts.map((a) => ({
          account: a.account,
          handedOverLast10s: a.handedOverLast10s,
          handedOverLast60s: a.handedOverLast60s,
          creditsRemaining: a.creditsRemaining,
        })),
      ).toEqual([
        {
          account: 'default',
          handedOverLast10s: 1,
          handedOverLast60s: 2,
          creditsRemaining: 90,
        },
        { account: 'backup', handedOverLast10s: 1, handedOverLast60s: 2, creditsRemaining: 700 },
        { account: 'idle', handedOverLast10s: 0, handedOverLast60s: 0, creditsRemaining: null },
      ]);
      expect(accounts[2].creditsAsOf).toBeNull();
    });

    it('answers zeros and no ages for an empty backlog', async () => {
      await message(1, null, 'delivered');
      const backlog = await queries.backlog();
      expect(backlog.byStatus).toEqual({ scheduled: 0, pending: 0, queued: 0, sent: 0 });
      expect(backlog.oldestPendingSeconds).toBeNull();
      expect(backlog.scheduledOverdueSeconds).toBeNull();
      expect(backlog.creditsRemaining).toBeNull();
    });
  });

  it('finds a message by id, with every column mapped, or null', async () => {
    const id = await message(1, null);
    const found = await queries.findById(id);
    expect(found).toMatchObject({ id, status: 'queued', recipient: '+14155550100', segments: 1 });
    expect(await queries.findById('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  describe("a notification's messages, their counts and timelines", () => {
    /** A notification with `count` messages to distinct numbers, each with a second event. */
    async function withMessages(count: number, status = 'pending'): Promise<string> {
      const n = await notification();
      await db.query(
        `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
                               status, priority, submitted_at)
         SELECT $1, '+1415555' || lpad(i::text, 4, '0'), 'x', 1, 'GSM-7', 1, $2, 2,
                $3::timestamptz + i * interval '1 ms'
         FROM generate_series(1, $4) AS i`,
        [n, status, now, count],
      );
      await db.query(
        `INSERT INTO message_events (message_id, type, status, source, occurred_at)
         SELECT id, t.type, t.status, 'api', submitted_at + t.after
         FROM messages, (VALUES ('accepted', $2, interval '0'), ('note', NULL, interval '1 s'))
           AS t(type, status, after)
         WHERE notification_id = $1`,
        [n, status],
      );
      return n;
    }

    it('lists the first messages by submission, bounded, while the counts cover them all', async () => {
      const n = await withMessages(5);
      const other = await withMessages(2, 'queued');
      const first = await queries.forNotification(n, 3);
      expect(first.map((m) => m.recipient)).toEqual([
        '+14155550001',
        '+14155550002',
        '+14155550003',
      ]);
      expect(first.every((m) => m.notificationId === n && m.status === 'pending')).toBe(true);
      const counts = await queries.statusCounts([n, other]);
      expect(counts.get(n)).toEqual({ pending: 5 });
      expect(counts.get(other)).toEqual({ queued: 2 });
      expect(await queries.statusCounts([])).toEqual(new Map());
    });

    it("reads the listed messages' timelines oldest first, at most the bound per message", async () => {
      const n = await withMessages(3);
      const ids = (await queries.forNotification(n, 3)).map((m) => m.id);
      const events = await queries.timelines(ids, 2);
      expect(events).toHaveLength(6);
      for (const id of ids) {
        expect(events.filter((e) => e.messageId === id).map((e) => e.type)).toEqual([
          'accepted',
          'note',
        ]);
      }
      expect(await queries.timelines(ids, 1)).toHaveLength(3);
      expect(await queries.timelines([], 20)).toEqual([]);
    });

    it('searches newest first with each notification beside its message, and pages by cursor', async () => {
      const n = await withMessages(3);
      const found = await queries.search({ team: 'alpha', notificationId: n }, 10);
      expect(found.map((f) => f.message.recipient)).toEqual([
        '+14155550003',
        '+14155550002',
        '+14155550001',
      ]);
      expect(found[0]).toMatchObject({ team: 'alpha', templateKey: 'tpl', resentAs: null });
      expect(found[0].cursorAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      const after = await queries.search(
        {
          team: 'alpha',
          notificationId: n,
          before: { at: found[0].cursorAt, id: found[0].message.id },
        },
        10,
      );
      expect(after.map((f) => f.message.recipient)).toEqual(['+14155550002', '+14155550001']);
      expect(await queries.search({ team: 'beta', notificationId: n }, 10)).toEqual([]);
    });

    it('searches by category', async () => {
      const n = await withMessages(3);
      await db.query(
        `UPDATE messages SET category = 'marketing'
         WHERE notification_id = $1 AND recipient = '+14155550002'`,
        [n],
      );
      const recipients = async (category: 'otp' | 'transactional' | 'marketing') =>
        (await queries.search({ team: 'alpha', notificationId: n, category }, 10)).map(
          (f) => f.message.recipient,
        );
      expect(await recipients('marketing')).toEqual(['+14155550002']);
      expect(await recipients('transactional')).toEqual(['+14155550003', '+14155550001']);
      expect(await recipients('otp')).toEqual([]);
    });
  });
});
