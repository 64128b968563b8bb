import { randomUUID } from 'node:crypto';
import { WorkerLeaseRepository } from '../../apps/notification-service/src/sending/worker-lease.repository';
import { cloneTemplateDatabase, type ScratchDatabase } from './scratch-database';

/**
 * The sending processes' leases: taken and kept alive by the database's clock, dropped on a clean
 * exit, and pruned once lapsed long ago, never while a claim still names them (the reaper
 * releases those claims first).
 */
describe(WorkerLeaseRepository.name, () => {
  let scratch: ScratchDatabase;
  let leases: WorkerLeaseRepository;

  beforeAll(async () => {
    scratch = await cloneTemplateDatabase('lease');
    leases = new WorkerLeaseRepository(scratch.db);
  });
  afterAll(() => scratch?.drop());
  beforeEach(() => scratch.db.query(`DELETE FROM worker_leases`));

  /** Seconds from the database's now to the lease's end; null when there is no lease. */
  async function secondsLeft(id: string): Promise<number | null> {
    const rows = await scratch.db.query<{ left: number }[]>(
      `SELECT extract(epoch FROM expires_at - now())::float8 AS left FROM worker_leases WHERE id = $1`,
      [id],
    );
    return rows.length ? rows[0].left : null;
  }

  const lapse = (id: string, ago: string) =>
    scratch.db.query(`UPDATE worker_leases SET expires_at = now() - $2::interval WHERE id = $1`, [
      id,
      ago,
    ]);

  it('takes a lease for its time to live, and a renewal extends the one lease', async () => {
    const id = randomUUID();
    await leases.renew(id, 30_000);
    const first = await secondsLeft(id);
    expect(first).toBeGreaterThan(25);
    expect(first).toBeLessThanOrEqual(30);

    await lapse(id, '1 second');
    await leases.renew(id, 120_000);
    expect(await secondsLeft(id)).toBeGreaterThan(115);
    const [{ n }] = await scratch.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM worker_leases WHERE id = $1`,
      [id],
    );
    expect(n).toBe(1);
  });

  it('records where the lease holder runs', async () => {
    const id = randomUUID();
    await leases.renew(id, 1_000);
    const [row] = await scratch.db.query<{ pid: number; host: string }[]>(
      `SELECT pid, host FROM worker_leases WHERE id = $1`,
      [id],
    );
    expect(row.pid).toBe(process.pid);
    expect(row.host).not.toBe('');
  });

  it('drops one lease and leaves the others', async () => {
    const [mine, other] = [randomUUID(), randomUUID()];
    await leases.renew(mine, 30_000);
    await leases.renew(other, 30_000);
    await leases.drop(mine);
    await leases.drop(randomUUID());
    expect(await secondsLeft(mine)).toBeNull();
    expect(await secondsLeft(other)).not.toBeNull();
  });

  it('prunes leases lapsed before the moment given, unless a claim still names them', async () => {
    const [live, lapsedRecently, lapsedLongAgo, stillClaiming, claimReleased] = Array.from(
      { length: 5 },
      () => randomUUID(),
    );
    for (const id of [live, lapsedRecently, lapsedLongAgo, stillClaiming, claimReleased]) {
      await leases.renew(id, 60_000);
    }
    await lapse(lapsedRecently, '1 minute');
    for (const id of [lapsedLongAgo, stillClaiming, claimReleased]) await lapse(id, '2 hours');

    const [n] = await scratch.db.query<{ id: string }[]>(
      `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
       VALUES ('alpha', 'tpl', 1, 'normal', 2) RETURNING id`,
    );
    // A message a dead worker still holds, and one whose claim the reaper has released.
    await scratch.db.query(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
                             status, priority, claim_owner, claimed_at, claim_token)
       VALUES ($1, '+14155550100', 'x', 1, 'GSM-7', 1, 'pending', 2, $2, now() - interval '2 hours', gen_random_uuid()),
              ($1, '+14155550101', 'x', 1, 'GSM-7', 1, 'pending', 2, $3, NULL, NULL)`,
      [n.id, stillClaiming, claimReleased],
    );

    await leases.pruneLapsed(new Date(Date.now() - 3_600_000));
    const left = await scratch.db.query<{ id: string }[]>(`SELECT id FROM worker_leases`);
    expect(new Set(left.map((l) => l.id))).toEqual(new Set([live, lapsedRecently, stillClaiming]));
  });
});
