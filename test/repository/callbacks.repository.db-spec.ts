import { randomBytes } from 'node:crypto';
import {
  type AttemptFailure,
  CallbacksRepository,
  MAX_CALLBACKS_LISTED,
} from '../../apps/notification-service/src/callbacks/callbacks.repository';
import { cloneTemplateDatabase, type ScratchDatabase } from './scratch-database';

/**
 * Status callbacks as the dispatcher and the API see them: created by the database for every
 * status change, sent in order per message, each attempt recorded once, failed ones re-armed.
 */
describe(CallbacksRepository.name, () => {
  let scratch: ScratchDatabase;
  let callbacks: CallbacksRepository;

  beforeAll(async () => {
    scratch = await cloneTemplateDatabase('cb');
    callbacks = new CallbacksRepository(scratch.db);
  });
  afterAll(() => scratch?.drop());
  beforeEach(() => scratch.db.query(`DELETE FROM notifications`));

  async function notification(
    team = 'alpha',
    callbackUrl: string | null = 'https://example.test/hook',
  ) {
    const [n] = await scratch.db.query<{ id: string }[]>(
      `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count, callback_url)
       VALUES ($1, 'tpl', 1, 'normal', 1, $2) RETURNING id`,
      [team, callbackUrl],
    );
    return n.id;
  }

  async function message(notificationId: string): Promise<string> {
    const [m] = await scratch.db.query<{ id: string }[]>(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments, status, priority)
       VALUES ($1, '+14155550100', 'x', 1, 'GSM-7', 1, 'pending', 2) RETURNING id`,
      [notificationId],
    );
    return m.id;
  }

  /** A status change on the message's timeline; the database makes its callback. */
  async function statusChange(messageId: string, status = 'sent'): Promise<string> {
    const [row] = await scratch.db.query<{ id: string }[]>(
      `WITH e AS (
         INSERT INTO message_events (message_id, type, status, source, status_change)
         VALUES ($1, $2, $2, 'worker', true) RETURNING id)
       SELECT id FROM e`,
      [messageId, status],
    );
    const [delivery] = await scratch.db.query<{ id: string }[]>(
      `SELECT id FROM callback_deliveries WHERE event_id = $1`,
      [row.id],
    );
    return delivery.id;
  }

  const failure = (final: boolean, nextAttemptAt = new Date()): AttemptFailure => ({
    statusCode: 503,
    error: 'Service Unavailable',
    final,
    nextAttemptAt,
  });

  /** Fails the delivery for good in one recorded attempt. */
  async function failForGood(id: string): Promise<void> {
    const attempt = await callbacks.findForAttempt(id);
    expect(await callbacks.recordFailure(id, attempt!.attempts, failure(true))).toBe(true);
  }

  describe('team secrets', () => {
    it('finds nothing for a team without one, then the secret stored, replaced as a whole', async () => {
      const team = `t_${randomBytes(4).toString('hex')}`;
      expect(await callbacks.findSecret(team)).toBeNull();
      await callbacks.upsertSecret(team, 'first');
      expect(await callbacks.findSecret(team)).toMatchObject({ team, secret: 'first' });
      const replaced = await callbacks.upsertSecret(team, 'second');
      expect(replaced).toMatchObject({ team, secret: 'second' });
      expect(await callbacks.findSecret(team)).toEqual(replaced);
    });

    it('keeps the first secret when creating one that exists already', async () => {
      const team = `t_${randomBytes(4).toString('hex')}`;
      expect(await callbacks.createSecretIfMissing(team, 'one')).toEqual({
        secret: 'one',
        created: true,
      });
      expect(await callbacks.createSecretIfMissing(team, 'two')).toEqual({
        secret: 'one',
        created: false,
      });
    });

    it('gives racing creators one and the same secret, created by exactly one of them', async () => {
      const team = `t_${randomBytes(4).toString('hex')}`;
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => callbacks.createSecretIfMissing(team, `s${i}`)),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.secret)).size).toBe(1);
      expect((await callbacks.findSecret(team))?.secret).toBe(results[0].secret);
    });
  });

  it("finds a notification's team, and nothing for an unknown notification", async () => {
    const n = await notification('beta');
    expect(await callbacks.findNotificationTeam(n)).toBe('beta');
    await scratch.db.query(`DELETE FROM notifications WHERE id = $1`, [n]);
    expect(await callbacks.findNotificationTeam(n)).toBeNull();
  });

  it("lists a notification's callbacks in the order of their status changes, and no other's", async () => {
    const n = await notification();
    const [a, b] = [await message(n), await message(n)];
    const order = [
      await statusChange(a, 'queued'),
      await statusChange(b, 'queued'),
      await statusChange(b, 'sent'),
      await statusChange(a, 'delivered'),
    ];
    await statusChange(await message(await notification()), 'queued');
    const listed = await callbacks.listForNotification(n);
    expect(listed.map((d) => d.id)).toEqual(order);
    expect(listed.map((d) => [d.messageId, d.event, d.status])).toEqual([
      [a, 'message.queued', 'pending'],
      [b, 'message.queued', 'pending'],
      [b, 'message.sent', 'pending'],
      [a, 'message.delivered', 'pending'],
    ]);
  });

  it('makes no callback for a notification without a callback URL', async () => {
    const n = await notification('alpha', null);
    await scratch.db.query(
      `INSERT INTO message_events (message_id, type, status, source, status_change)
       VALUES ($1, 'queued', 'queued', 'worker', true)`,
      [await message(n)],
    );
    expect(await callbacks.listForNotification(n)).toEqual([]);
  });

  it(`lists at most ${MAX_CALLBACKS_LISTED} callbacks of one notification, the oldest`, async () => {
    const n = await notification();
    const m = await message(n);
    await scratch.db.query(
      `INSERT INTO message_events (message_id, type, status, source, status_change)
       SELECT $1, 'sent', 'sent', 'worker', true FROM generate_series(1, $2::int)`,
      [m, MAX_CALLBACKS_LISTED + 3],
    );
    const listed = await callbacks.listForNotification(n);
    expect(listed).toHaveLength(MAX_CALLBACKS_LISTED);
    const [{ first }] = await scratch.db.query<{ first: string }[]>(
      `SELECT min(event_id)::text AS first FROM callback_deliveries WHERE notification_id = $1`,
      [n],
    );
    expect(listed[0].eventId).toBe(first);
  });

  it('lists failed callbacks most recently failed first, of one team or of all, up to the limit', async () => {
    const alpha = await message(await notification('alpha'));
    const beta = await message(await notification('beta'));
    const pending = await statusChange(alpha, 'queued');
    const failedFirst = await statusChange(alpha, 'sent');
    const failedSecond = await statusChange(beta, 'sent');
    const failedLast = await statusChange(alpha, 'delivered');
    for (const id of [failedFirst, failedSecond, failedLast]) await failForGood(id);

    expect((await callbacks.listFailed(null, 10)).map((d) => d.id)).toEqual([
      failedLast,
      failedSecond,
      failedFirst,
    ]);
    expect((await callbacks.listFailed('alpha', 10)).map((d) => d.id)).toEqual([
      failedLast,
      failedFirst,
    ]);
    expect((await callbacks.listFailed(null, 1)).map((d) => d.id)).toEqual([failedLast]);
    expect((await callbacks.listFailed('gamma', 10)).map((d) => d.id)).toEqual([]);
    expect((await callbacks.listFailed(null, 10)).map((d) => d.id)).not.toContain(pending);
  });

  // What the row holds is what counts here: recordDelivered and recordFailure answer true even
  // for an attempt already recorded (a bare UPDATE … RETURNING comes back from the driver as
  // [rows, count], whose length is always 2), so their answer is not asserted until that is fixed.
  it('records an attempt once: a second record of the same attempt changes nothing', async () => {
    const n = await notification();
    const id = await statusChange(await message(n));
    expect(await callbacks.recordFailure(id, 0, failure(false))).toBe(true);
    // Bull ran the same job twice: the attempts count it read is stale now, and the sender is
    // told so (it must neither log the attempt again nor plan another retry).
    expect(await callbacks.recordFailure(id, 0, failure(false))).toBe(false);
    expect(await callbacks.recordDelivered(id, 0, 200)).toBe(false);
    expect(await callbacks.findForAttempt(id)).toMatchObject({ status: 'pending', attempts: 1 });

    expect(await callbacks.recordDelivered(id, 1, 204)).toBe(true);
    expect(await callbacks.recordDelivered(id, 1, 200)).toBe(false);
    const [listed] = await callbacks.listForNotification(n);
    expect(listed).toMatchObject({
      status: 'delivered',
      attempts: 2,
      lastStatusCode: 204,
      lastError: null,
    });
    expect(listed.deliveredAt).toBeInstanceOf(Date);
  });

  it('counts one of concurrent records of one attempt', async () => {
    const id = await statusChange(await message(await notification()));
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2
          ? callbacks.recordDelivered(id, 0, 200)
          : callbacks.recordFailure(id, 0, failure(false)),
      ),
    );
    expect((await callbacks.findForAttempt(id))?.attempts).toBe(1);
  });

  it('keeps a failed attempt pending until its next try, and fails it for good on the last', async () => {
    const n = await notification();
    const id = await statusChange(await message(n));
    const later = new Date(Date.now() + 60_000);
    await callbacks.recordFailure(id, 0, failure(false, later));
    let [d] = await callbacks.listForNotification(n);
    expect(d).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastStatusCode: 503,
      nextAttemptAt: later,
    });
    await callbacks.recordFailure(id, 1, failure(true, new Date(Date.now() + 3_600_000)));
    [d] = await callbacks.listForNotification(n);
    expect(d).toMatchObject({ status: 'failed', attempts: 2, lastError: 'Service Unavailable' });
    // A delivery that failed for good takes no more attempts.
    await callbacks.recordDelivered(id, 2, 200);
    expect(await callbacks.findForAttempt(id)).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('postpones only the attempt it was asked about, without counting it', async () => {
    const n = await notification();
    const id = await statusChange(await message(n));
    const until = new Date(Date.now() + 120_000);
    await callbacks.postpone(id, 5, until);
    expect((await callbacks.listForNotification(n))[0].nextAttemptAt).not.toEqual(until);
    await callbacks.postpone(id, 0, until);
    expect((await callbacks.listForNotification(n))[0]).toMatchObject({
      attempts: 0,
      nextAttemptAt: until,
    });
  });

  it("re-arms a notification's failed callbacks, due now, and leaves the others alone", async () => {
    const n = await notification();
    const m = await message(n);
    const delivered = await statusChange(m, 'queued');
    const failedA = await statusChange(m, 'sent');
    const failedB = await statusChange(m, 'delivered');
    await callbacks.recordDelivered(delivered, 0, 200);
    await failForGood(failedA);
    await failForGood(failedB);
    const otherFailed = await statusChange(await message(await notification()));
    await failForGood(otherFailed);

    const before = new Date();
    const rearmed = await callbacks.redeliverFailed(n);
    expect(rearmed.map((d) => d.id)).toEqual([failedA, failedB]);
    for (const d of rearmed) {
      expect(d).toMatchObject({ status: 'pending', attempts: 1 });
      expect(d.redeliveredAt).toBeInstanceOf(Date);
      expect(d.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
      expect(d.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1_000);
    }
    // The new round counts from here; the attempts made so far stay on record.
    expect(await callbacks.findForAttempt(failedA)).toMatchObject({ attempts: 1, attemptsBase: 1 });
    expect((await callbacks.listFailed(null, 10)).map((d) => d.id)).toEqual([otherFailed]);
    expect(await callbacks.redeliverFailed(n)).toEqual([]);
  });

  it('reads everything an attempt needs, and nothing for an unknown callback', async () => {
    const n = await notification('gamma', 'https://hooks.example.test/sms');
    const m = await message(n);
    const id = await statusChange(m, 'queued');
    expect(await callbacks.findForAttempt(id)).toMatchObject({
      id,
      messageId: m,
      team: 'gamma',
      url: 'https://hooks.example.test/sms',
      payload: { event: 'message.queued', status: 'queued', message_id: m, notification_id: n },
      status: 'pending',
      attempts: 0,
      attemptsBase: 0,
    });
    await scratch.db.query(`DELETE FROM notifications WHERE id = $1`, [n]);
    expect(await callbacks.findForAttempt(id)).toBeNull();
  });

  it("names a message's oldest pending callback as the next to send", async () => {
    const m = await message(await notification());
    const first = await statusChange(m, 'queued');
    const second = await statusChange(m, 'sent');
    expect((await callbacks.nextForMessage(m))?.id).toBe(first);
    await callbacks.recordDelivered(first, 0, 200);
    expect((await callbacks.nextForMessage(m))?.id).toBe(second);
    await callbacks.recordDelivered(second, 0, 200);
    expect(await callbacks.nextForMessage(m)).toBeNull();
  });

  describe('due batches', () => {
    const due = (limit = 100) =>
      callbacks.withDueBatch(limit, (refs) => Promise.resolve(refs.map((r) => r.id)));
    const dueAt = (id: string, at: Date) =>
      scratch.db.query(`UPDATE callback_deliveries SET next_attempt_at = $2 WHERE id = $1`, [
        id,
        at,
      ]);

    it('hands out due callbacks only, one per message (the first in line), longest due first', async () => {
      const n = await notification();
      const [a, b, c] = [await message(n), await message(n), await message(n)];
      const aFirst = await statusChange(a, 'queued');
      await statusChange(a, 'sent');
      const bFirst = await statusChange(b, 'queued');
      const cNotYet = await statusChange(c, 'queued');
      await dueAt(aFirst, new Date(Date.now() - 1_000));
      await dueAt(bFirst, new Date(Date.now() - 60_000));
      await dueAt(cNotYet, new Date(Date.now() + 60_000));
      expect(await due()).toEqual([bFirst, aFirst]);
      expect(await due(1)).toEqual([bFirst]);
    });

    it('does not hand a later callback of a message out while an earlier one waits for its retry', async () => {
      const m = await message(await notification());
      const first = await statusChange(m, 'queued');
      await statusChange(m, 'sent');
      await callbacks.recordFailure(first, 0, failure(false, new Date(Date.now() + 60_000)));
      expect(await due()).toEqual([]);
    });

    it('hands each callback to one of two concurrent dispatchers', async () => {
      const n = await notification();
      for (let i = 0; i < 6; i++) await statusChange(await message(n));
      let second: string[] = [];
      const first = await callbacks.withDueBatch(4, async (refs) => {
        // While the first batch holds its rows, another dispatcher takes what is left.
        second = await due();
        return refs.map((r) => r.id);
      });
      expect(first).toHaveLength(4);
      expect(second).toHaveLength(2);
      expect(first.filter((id) => second.includes(id))).toEqual([]);
    });
  });
});
