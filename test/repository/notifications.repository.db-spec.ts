import { randomUUID } from 'node:crypto';
import {
  type NewNotification,
  NotificationsRepository,
} from '../../apps/notification-service/src/notifications/notifications.repository';
import { waitFor } from '../../tools/stack/wait';
import { cloneTemplateDatabase, type ScratchDatabase, sqlState } from './scratch-database';

/**
 * The idempotency store (one record per team and key, the key itself the lock a concurrent
 * duplicate waits on, purged once expired) and the notification rows intake writes.
 * Reads of messages kept here for now (findMessages, findEvents, statusCounts, list by status)
 * are moving to delivery-status/ and are covered there and end to end.
 */
describe(NotificationsRepository.name, () => {
  let scratch: ScratchDatabase;
  let notifications: NotificationsRepository;

  beforeAll(async () => {
    scratch = await cloneTemplateDatabase('ntf');
    notifications = new NotificationsRepository(scratch.db);
  });
  afterAll(() => scratch?.drop());
  beforeEach(() => scratch.db.query(`DELETE FROM idempotency_records`));

  const inDay = () => new Date(Date.now() + 86_400_000);
  const record = (team: string, key: string, expiresAt = inDay()) => ({
    team,
    key,
    requestHash: `hash of ${team}/${key}`,
    expiresAt,
  });
  const insert = (team: string, key: string, expiresAt?: Date) =>
    notifications.transaction((m) =>
      notifications.insertIdempotency(m, record(team, key, expiresAt)),
    );

  /** A notification row, as intake writes it. */
  async function notification(team = 'alpha'): Promise<string> {
    const id = randomUUID();
    await notifications.transaction((m) =>
      notifications.insertNotifications(m, [newNotification(id, team)]),
    );
    return id;
  }
  const newNotification = (id: string, team: string): NewNotification => ({
    id,
    team,
    apiKeyId: null,
    templateKey: 'welcome',
    templateVersion: 1,
    senderId: null,
    priority: 'normal',
    scheduledAt: null,
    expiresAt: null,
    callbackUrl: null,
    reference: null,
    recipientCount: 1,
  });

  /** Whether a session of this database is waiting for a row lock another one holds. */
  const blockedOnALock = async () =>
    (
      await scratch.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      )
    )[0].n > 0;

  describe('idempotency records', () => {
    it('finds a key as it was stored, then with the answer it completed with', async () => {
      const stored = await insert('alpha', 'k1');
      expect(await notifications.findIdempotency('alpha', 'k1')).toMatchObject({
        id: stored.id,
        requestHash: 'hash of alpha/k1',
        notificationId: null,
        response: null,
      });
      const n = await notification();
      await notifications.transaction((m) =>
        notifications.completeIdempotency(m, stored.id, n, { id: n, status: 'accepted' }),
      );
      expect(await notifications.findIdempotency('alpha', 'k1')).toMatchObject({
        notificationId: n,
        response: { id: n, status: 'accepted' },
      });
      expect(await notifications.findIdempotency('beta', 'k1')).toBeNull();
    });

    it('holds one record per team and key; the same key of another team is its own', async () => {
      await insert('alpha', 'shared-key');
      await insert('beta', 'shared-key');
      // 23505: unique_violation.
      expect(await sqlState(insert('alpha', 'shared-key'))).toBe('23505');
    });

    it('makes a concurrent duplicate wait for the first request, at most its lock timeout', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let inserted!: () => void;
      const first = notifications.transaction(async (m) => {
        await notifications.insertIdempotency(m, record('alpha', 'slow'));
        inserted();
        await held;
      });
      await new Promise<void>((resolve) => (inserted = resolve));

      // 55P03: lock_not_available, what the lock timeout ends the wait with.
      const waited = notifications.transaction(async (m) => {
        await notifications.setLockTimeout(m, 200);
        await notifications.insertIdempotency(m, record('alpha', 'slow'));
      });
      expect(await sqlState(waited)).toBe('55P03');

      release();
      await first;
      expect(await sqlState(insert('alpha', 'slow'))).toBe('23505');
    });

    it('lets the duplicate through when the first request rolls back', async () => {
      let rollBack!: () => void;
      const decided = new Promise<void>((resolve) => (rollBack = resolve));
      let inserted!: () => void;
      const first = notifications.transaction(async (m) => {
        await notifications.insertIdempotency(m, record('alpha', 'undone'));
        inserted();
        await decided;
        throw new Error('the request failed');
      });
      await new Promise<void>((resolve) => (inserted = resolve));
      const second = notifications.transaction(async (m) => {
        await notifications.setLockTimeout(m, 10_000);
        return notifications.insertIdempotency(m, record('alpha', 'undone'));
      });
      // The duplicate is waiting on the first request's key before that request ends.
      await waitFor(blockedOnALock, { what: 'the duplicate to wait on the key' });
      rollBack();
      await expect(first).rejects.toThrow('the request failed');
      const stored = await second;
      expect((await notifications.findIdempotency('alpha', 'undone'))?.id).toBe(stored.id);
    });

    it('frees an expired key for reuse, and only an expired one', async () => {
      await insert('alpha', 'old', new Date(Date.now() - 1_000));
      await insert('alpha', 'live');
      await notifications.transaction(async (m) => {
        await notifications.deleteExpiredIdempotency(m, 'alpha', 'old');
        await notifications.deleteExpiredIdempotency(m, 'alpha', 'live');
      });
      expect(await notifications.findIdempotency('alpha', 'old')).toBeNull();
      expect(await notifications.findIdempotency('alpha', 'live')).not.toBeNull();
      await insert('alpha', 'old');
    });

    it('purges every expired record, says how many, and keeps the live ones', async () => {
      const past = new Date(Date.now() - 1_000);
      await insert('alpha', 'a', past);
      await insert('beta', 'b', past);
      await insert('alpha', 'c');
      expect(await notifications.purgeExpiredIdempotency()).toBe(2);
      expect(await notifications.purgeExpiredIdempotency()).toBe(0);
      expect(await notifications.findIdempotency('alpha', 'c')).not.toBeNull();
      expect(await notifications.findIdempotency('beta', 'b')).toBeNull();
    });

    it('goes with its notification when the notification is deleted', async () => {
      const stored = await insert('alpha', 'tied');
      const n = await notification();
      await notifications.transaction((m) =>
        notifications.completeIdempotency(m, stored.id, n, {}),
      );
      await scratch.db.query(`DELETE FROM notifications WHERE id = $1`, [n]);
      expect(await notifications.findIdempotency('alpha', 'tied')).toBeNull();
    });
  });

  describe('notification rows', () => {
    it('stores many in one call with the ids the caller chose, and finds each', async () => {
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      await notifications.transaction((m) =>
        notifications.insertNotifications(m, [
          {
            ...newNotification(ids[0], 'alpha'),
            reference: 'order-1',
            callbackUrl: 'https://x.test/h',
          },
          { ...newNotification(ids[1], 'beta'), priority: 'high', recipientCount: 3 },
          {
            ...newNotification(ids[2], 'alpha'),
            scheduledAt: new Date('2030-01-01T00:00:00Z'),
            expiresAt: new Date('2030-01-02T00:00:00Z'),
          },
        ]),
      );
      expect(await notifications.findNotification(ids[0])).toMatchObject({
        team: 'alpha',
        reference: 'order-1',
        callbackUrl: 'https://x.test/h',
      });
      expect(await notifications.findNotification(ids[1])).toMatchObject({
        team: 'beta',
        priority: 'high',
        recipientCount: 3,
      });
      expect(await notifications.findNotification(ids[2])).toMatchObject({
        scheduledAt: new Date('2030-01-01T00:00:00Z'),
        expiresAt: new Date('2030-01-02T00:00:00Z'),
      });
      expect(await notifications.findNotification(randomUUID())).toBeNull();
    });

    it('stores nothing for an empty batch, and none of a batch that fails', async () => {
      await notifications.transaction((m) => notifications.insertNotifications(m, []));
      const taken = await notification();
      const fresh = randomUUID();
      // 23505: the second row's id is taken, so the first row is not stored either.
      expect(
        await sqlState(
          notifications.transaction((m) =>
            notifications.insertNotifications(m, [
              newNotification(fresh, 'alpha'),
              newNotification(taken, 'alpha'),
            ]),
          ),
        ),
      ).toBe('23505');
      expect(await notifications.findNotification(fresh)).toBeNull();
    });
  });
});
