import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDatabase, dropDatabase } from '../../tools/stack/database';
import { databasePrefix, databaseUrl, PG_ADMIN_URL, templateDatabase } from '../support/test-env';
import { databaseOptions } from '../../apps/notification-service/src/database/database-options';
import { ReconcileRepository } from '../../apps/notification-service/src/reconcile/reconcile.repository';

const MINUTE = 60_000;

/** The poll schedule in SQL: first after a minute of silence, then 2, 5, 15, 60 min, hourly. */
describe(ReconcileRepository.name, () => {
  const name = `${databasePrefix()}_rc_${randomBytes(4).toString('hex')}`;
  let db: DataSource;
  let repository: ReconcileRepository;
  const now = new Date('2026-06-01T12:00:00Z');

  beforeAll(async () => {
    await createDatabase(PG_ADMIN_URL, name, templateDatabase());
    db = new DataSource(databaseOptions(databaseUrl(name)));
    await db.initialize();
    repository = new ReconcileRepository(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(PG_ADMIN_URL, name);
  });
  beforeEach(() => db.query(`DELETE FROM messages`));

  /** A handed-over message quiet for `quietMin`, last polled `checkedMin` ago (or never). */
  async function message(quietMin: number, checkedMin: number | null, status = 'queued') {
    const [n] = await db.query<{ id: string }[]>(
      `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
       VALUES ('alpha', 'tpl', 1, 'normal', 1) RETURNING id`,
    );
    const at = (min: number | null) =>
      min === null ? null : new Date(now.getTime() - min * MINUTE);
    const [m] = await db.query<{ id: string }[]>(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
                             status, priority, provider_message_id, updated_at, last_checked_at)
       VALUES ($1, '+14155550100', 'x', 1, 'GSM-7', 1, $2, 2, $3, $4, $5) RETURNING id`,
      [n.id, status, `msg_${randomBytes(4).toString('hex')}`, at(quietMin), at(checkedMin)],
    );
    return m.id;
  }

  const due = async () => new Set((await repository.findDue(now, MINUTE, 100)).map((m) => m.id));

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
    const first = await repository.findDue(now, MINUTE, 1);
    expect(first.map((m) => m.id)).toEqual([old]);
    expect((await due()).has(recent)).toBe(true);
  });
});
